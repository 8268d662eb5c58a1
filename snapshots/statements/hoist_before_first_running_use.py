import fastforward

from statements.hoist_before_first_running_use import Pad


class QuantizedPad(fastforward.nn.QuantizedModule, Pad):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_remainder_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_remainder_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_remainder_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_remainder_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_pad: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_window_size: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_hidden_states: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_height: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_width: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, hidden_states, height: int, width: int):
        hidden_states = self.quantizer_hidden_states(hidden_states)
        height = self.quantizer_height(height)
        width = self.quantizer_width(width)
        self_window_size = self.quantizer_self_window_size(self.window_size)
        # `self.window_size` is quantized once; its first use to run is the right one,
        # inside `width % self.window_size`'s temporary (transformers' Swin maybe_pad)
        _tmp_1 = fastforward.nn.functional.remainder(
            width, self_window_size, output_quantizer=self.quantizer_remainder_1
        )
        _tmp_2 = fastforward.nn.functional.sub(
            self_window_size, _tmp_1, output_quantizer=self.quantizer_sub_1
        )
        pad_right = fastforward.nn.functional.remainder(
            _tmp_2, self_window_size, output_quantizer=self.quantizer_remainder_2
        )
        _tmp_3 = fastforward.nn.functional.remainder(
            height, self_window_size, output_quantizer=self.quantizer_remainder_3
        )
        _tmp_4 = fastforward.nn.functional.sub(
            self_window_size, _tmp_3, output_quantizer=self.quantizer_sub_2
        )
        pad_bottom = fastforward.nn.functional.remainder(
            _tmp_4, self_window_size, output_quantizer=self.quantizer_remainder_4
        )
        return fastforward.nn.functional.pad(
            hidden_states, (0, 0, 0, pad_right, 0, pad_bottom), output_quantizer=self.quantizer_pad
        )

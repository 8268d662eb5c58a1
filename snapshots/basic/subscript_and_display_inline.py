import fastforward

from basic.subscript_and_display_inline import Pick


class QuantizedPick(fastforward.nn.QuantizedModule, Pick):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_idx: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, idx):
        _tmp_1 = self.quantizer_x_idx(x[idx])
        y = fastforward.nn.functional.add(_tmp_1, _tmp_1, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)

import fastforward

from helpers.conditional_helper_not_followed import M, act


def quantized_scale(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):  # one unconditional definition: followed
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)


class QuantizedM(fastforward.nn.QuantizedModule, M):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = act(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = quantized_scale(
            x, quantizer_mul=self.quantizer_scale_mul, quantizer_x=self.quantizer_scale_x
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add)

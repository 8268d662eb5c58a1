import fastforward

from helpers.type_checking_helper_followed import Net


def quantized_scale(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)


def quantized_shift(
    x, *, quantizer_sub: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.sub(x, 3, output_quantizer=quantizer_sub)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = quantized_scale(
            x, quantizer_mul=self.quantizer_scale_mul, quantizer_x=self.quantizer_scale_x
        )
        _tmp_2 = quantized_shift(
            _tmp_1, quantizer_sub=self.quantizer_shift_sub, quantizer_x=self.quantizer_shift_x
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add)

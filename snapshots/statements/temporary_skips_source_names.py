import fastforward

from statements.temporary_skips_source_names import Net


def quantized_helper(
    x, *, quantizer_sub: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.sub(x, 1, output_quantizer=quantizer_sub)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.mul(x, 4, output_quantizer=self.quantizer_mul)
        _tmp_2 = quantized_helper(
            x, quantizer_sub=self.quantizer_helper_sub, quantizer_x=self.quantizer_helper_x
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, _tmp_1, output_quantizer=self.quantizer_add)

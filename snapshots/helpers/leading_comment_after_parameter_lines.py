import fastforward

from helpers.leading_comment_after_parameter_lines import Net


def quantized_doubled(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    # twice the input
    return fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_doubled_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_doubled_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        # the input, doubled
        _tmp_1 = quantized_doubled(
            x, quantizer_mul=self.quantizer_doubled_mul, quantizer_x=self.quantizer_doubled_x
        )
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.add(_tmp_1, x, output_quantizer=self.quantizer_add)

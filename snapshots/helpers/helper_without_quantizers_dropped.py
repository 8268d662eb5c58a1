import fastforward

from helpers.helper_without_quantizers_dropped import UsesHelpers, shape_of


def quantized_scale(
    x,
    s,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_s: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    s = quantizer_s(s)
    return fastforward.nn.functional.mul(x, s, output_quantizer=quantizer_mul)


class QuantizedUsesHelpers(fastforward.nn.QuantizedModule, UsesHelpers):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_scale_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = shape_of(x)
        n = _tmp_1[0]
        return quantized_scale(
            x,
            n,
            quantizer_mul=self.quantizer_scale_mul,
            quantizer_x=self.quantizer_scale_x,
            quantizer_s=self.quantizer_scale_s,
        )

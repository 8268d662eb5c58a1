import fastforward

from helpers.helper_with_varargs_and_kwargs import Blend


def quantized_blend(
    x,
    *others,
    weight=0.5,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_out: fastforward.nn.Quantizer,
    quantizer_o: fastforward.nn.Quantizer,
    **options,
):
    out = x
    out = quantizer_out(out)
    for o in others:
        o = quantizer_o(o)
        out = fastforward.nn.functional.add(out, o, output_quantizer=quantizer_add)
    return fastforward.nn.functional.mul(out, weight, output_quantizer=quantizer_mul)


class QuantizedBlend(fastforward.nn.QuantizedModule, Blend):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_blend_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_blend_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_blend_out: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_blend_o: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        return quantized_blend(
            x,
            y,
            weight=0.25,
            quantizer_add=self.quantizer_blend_add,
            quantizer_mul=self.quantizer_blend_mul,
            quantizer_out=self.quantizer_blend_out,
            quantizer_o=self.quantizer_blend_o,
        )

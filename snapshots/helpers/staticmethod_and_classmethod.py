import fastforward

from helpers.staticmethod_and_classmethod import Scaled


class QuantizedScaled(fastforward.nn.QuantizedModule, Scaled):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_double_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_double_t: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_halve_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_halve_t: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_combine_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_combine_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_combine_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        a = self.double(
            x, quantizer_mul=self.quantizer_double_mul, quantizer_t=self.quantizer_double_t
        )
        b = QuantizedScaled.halve(
            x, quantizer_div=self.quantizer_halve_div, quantizer_t=self.quantizer_halve_t
        )
        return self.combine(
            a,
            b,
            quantizer_add=self.quantizer_combine_add,
            quantizer_a=self.quantizer_combine_a,
            quantizer_b=self.quantizer_combine_b,
        )

    @staticmethod
    def double(
        t, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_t: fastforward.nn.Quantizer
    ):
        t = quantizer_t(t)
        return fastforward.nn.functional.mul(t, 2, output_quantizer=quantizer_mul)

    @staticmethod
    def halve(t, *, quantizer_div: fastforward.nn.Quantizer, quantizer_t: fastforward.nn.Quantizer):
        t = quantizer_t(t)
        return fastforward.nn.functional.div(t, 2, output_quantizer=quantizer_div)

    @classmethod
    def combine(
        cls,
        a,
        b,
        *,
        quantizer_add: fastforward.nn.Quantizer,
        quantizer_a: fastforward.nn.Quantizer,
        quantizer_b: fastforward.nn.Quantizer,
    ):
        a = quantizer_a(a)
        b = quantizer_b(b)
        return fastforward.nn.functional.add(a, b, output_quantizer=quantizer_add)

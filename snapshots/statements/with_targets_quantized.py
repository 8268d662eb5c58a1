import fastforward

from statements.with_targets_quantized import WithBlock


class QuantizedWithBlock(fastforward.nn.QuantizedModule, WithBlock):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, ctx):
        x = self.quantizer_x(x)
        with ctx as v:
            v = self.quantizer_v(v)
            y = fastforward.nn.functional.mul(v, x, output_quantizer=self.quantizer_mul)
        with ctx as (a, b):
            a = self.quantizer_a(a)
            b = self.quantizer_b(b)
            z = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add)
        return y, z

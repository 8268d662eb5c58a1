import fastforward

from basic.binary_operators import Arith


class QuantizedArith(fastforward.nn.QuantizedModule, Arith):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_matmul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, a, b):
        a = self.quantizer_a(a)
        b = self.quantizer_b(b)
        s = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add)
        d = fastforward.nn.functional.sub(a, b, output_quantizer=self.quantizer_sub)
        p = fastforward.nn.functional.mul(s, d, output_quantizer=self.quantizer_mul)
        q = fastforward.nn.functional.div(p, b, output_quantizer=self.quantizer_div)
        return fastforward.nn.functional.matmul(q, a, output_quantizer=self.quantizer_matmul)

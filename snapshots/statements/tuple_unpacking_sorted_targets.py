import fastforward

from statements.tuple_unpacking_sorted_targets import Split


class QuantizedSplit(fastforward.nn.QuantizedModule, Split):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_c: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_e: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        b, a = x.chunk(2)
        a = self.quantizer_a(a)
        b = self.quantizer_b(b)
        (c, d), e = (a, b), a
        c = self.quantizer_c(c)
        d = self.quantizer_d(d)
        e = self.quantizer_e(e)
        _tmp_1 = fastforward.nn.functional.mul(a, b, output_quantizer=self.quantizer_mul_1)
        _tmp_2 = fastforward.nn.functional.mul(c, d, output_quantizer=self.quantizer_mul_2)
        _tmp_3 = fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.sub(_tmp_3, e, output_quantizer=self.quantizer_sub)

import fastforward

from types.spec_scalar_propagation_no_inference import Scalars


class QuantizedScalars(fastforward.nn.QuantizedModule, Scalars):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_remainder: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_E: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_c: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_num_heads: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_scale: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_q: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, q, t, a):
        q = self.quantizer_q(q)
        E: int = q.size(-1)
        E = self.quantizer_E(E)
        x = fastforward.nn.functional.mul(E, 2, output_quantizer=self.quantizer_mul_1)
        self_num_heads = self.quantizer_self_num_heads(self.num_heads)
        _r = fastforward.nn.functional.remainder(
            self_num_heads, 2, output_quantizer=self.quantizer_remainder
        )
        self_scale = self.quantizer_self_scale(self.scale)
        s = fastforward.nn.functional.mul(self_scale, 2.0, output_quantizer=self.quantizer_mul_2)
        y = fastforward.nn.functional.mul(q, s, output_quantizer=self.quantizer_mul_3)
        b, c, d = t.shape
        b = self.quantizer_b(b)
        c = self.quantizer_c(c)
        d = self.quantizer_d(d)
        _tmp_1 = fastforward.nn.functional.mul(b, c, output_quantizer=self.quantizer_mul_4)
        w = fastforward.nn.functional.add(_tmp_1, d, output_quantizer=self.quantizer_add)
        u = a.unsqueeze(-1)
        return y, x, _r, w, u

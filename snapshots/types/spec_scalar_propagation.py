import fastforward

from types.spec_scalar_propagation import Scalars


class QuantizedScalars(fastforward.nn.QuantizedModule, Scalars):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_q: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, q, t, a):
        q = self.quantizer_q(q)
        E: int = q.size(-1)
        x = E * 2
        _r = self.num_heads % 2
        s = self.scale * 2.0
        s = self.quantizer_s(s)
        y = fastforward.nn.functional.mul(q, s, output_quantizer=self.quantizer_mul)
        b, c, d = t.shape
        w = b * c + d
        u = a.unsqueeze(-1)
        return y, x, _r, w, u

import fastforward

from types.init_attributes import Attrs, Base


class QuantizedBase(fastforward.nn.QuantizedModule, Base):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_eps: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        self_eps = self.quantizer_self_eps(self.eps)
        return fastforward.nn.functional.mul(x, self_eps, output_quantizer=self.quantizer_mul)


class QuantizedAttrs(fastforward.nn.QuantizedModule, Attrs):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__r: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _r = self.num_heads % 2
        _r = self.quantizer__r(_r)
        s = self.scale * 2.0
        s = self.quantizer_s(s)
        d = self.dim * self.head_dim + self.eps
        d = self.quantizer_d(d)
        h = self.proj(x)
        h = self.quantizer_h(h)
        y = fastforward.nn.functional.mul(h, s, output_quantizer=self.quantizer_mul)
        _tmp_1 = fastforward.nn.functional.add(y, d, output_quantizer=self.quantizer_add_1)
        return fastforward.nn.functional.add(_tmp_1, _r, output_quantizer=self.quantizer_add_2)

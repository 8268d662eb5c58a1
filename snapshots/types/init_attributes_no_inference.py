import fastforward

from types.init_attributes_no_inference import Attrs, Base


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
        self.quantizer_remainder: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_dim: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_eps: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_head_dim: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_num_heads: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_scale: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        self_num_heads = self.quantizer_self_num_heads(self.num_heads)
        _r = fastforward.nn.functional.remainder(
            self_num_heads, 2, output_quantizer=self.quantizer_remainder
        )
        self_scale = self.quantizer_self_scale(self.scale)
        s = fastforward.nn.functional.mul(self_scale, 2.0, output_quantizer=self.quantizer_mul_1)
        self_dim = self.quantizer_self_dim(self.dim)
        self_head_dim = self.quantizer_self_head_dim(self.head_dim)
        _tmp_1 = fastforward.nn.functional.mul(
            self_dim, self_head_dim, output_quantizer=self.quantizer_mul_2
        )
        self_eps = self.quantizer_self_eps(self.eps)
        d = fastforward.nn.functional.add(_tmp_1, self_eps, output_quantizer=self.quantizer_add_1)
        h = self.proj(x)
        h = self.quantizer_h(h)
        y = fastforward.nn.functional.mul(h, s, output_quantizer=self.quantizer_mul_3)
        _tmp_2 = fastforward.nn.functional.add(y, d, output_quantizer=self.quantizer_add_2)
        return fastforward.nn.functional.add(_tmp_2, _r, output_quantizer=self.quantizer_add_3)

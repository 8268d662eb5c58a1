import fastforward

from ops.in_place_method_on_fresh_value import Chain


class QuantizedChain(fastforward.nn.QuantizedModule, Chain):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_zeros_like: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_m: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_count: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = self.lin(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = fastforward.nn.functional.sub(_tmp_1, 1, output_quantizer=self.quantizer_sub)
        n = fastforward.nn.functional.dequantized(_tmp_2).clamp_(min=0)
        n = self.quantizer_n(n)
        _tmp_3 = fastforward.nn.functional.zeros_like(x, output_quantizer=self.quantizer_zeros_like)
        m = fastforward.nn.functional.dequantized(_tmp_3).masked_fill_(x > 1.0, 0.5)
        m = self.quantizer_m(m)
        _tmp_4 = self.lin(x)
        h = fastforward.nn.functional.dequantized(_tmp_4).relu_()
        h = self.quantizer_h(h)
        self.count.add_(1)
        x.mul_(2)
        _tmp_5 = fastforward.nn.functional.add(n, m, output_quantizer=self.quantizer_add_1)
        _tmp_6 = fastforward.nn.functional.add(_tmp_5, h, output_quantizer=self.quantizer_add_2)
        self_count = self.quantizer_self_count(self.count)
        _tmp_7 = fastforward.nn.functional.add(
            _tmp_6, self_count, output_quantizer=self.quantizer_add_3
        )
        return fastforward.nn.functional.add(_tmp_7, x, output_quantizer=self.quantizer_add_4)

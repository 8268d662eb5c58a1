import fastforward

from ops.in_place_method_on_slice import Bias


class QuantizedBias(fastforward.nn.QuantizedModule, Bias):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_linear_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, bias):
        x = self.quantizer_x(x)
        b = self.b * 2
        b = fastforward.nn.functional.dequantized(b)
        _tmp_1 = b.numel()
        n = _tmp_1 // 3
        b[n : 2 * n].zero_()
        c = bias.clone()
        c = fastforward.nn.functional.dequantized(c)
        c[:n][0].fill_(1.0)
        self_w = self.quantizer_self_w(self.w)
        _tmp_2 = fastforward.nn.functional.linear(
            x, self_w, b, output_quantizer=self.quantizer_linear_1
        )
        _tmp_3 = fastforward.nn.functional.linear(
            x, self_w, c, output_quantizer=self.quantizer_linear_2
        )
        y = fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.mul(y, 3, output_quantizer=self.quantizer_mul)

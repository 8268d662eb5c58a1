import fastforward

from statements.redundant_parentheses_removed import Parens


class QuantizedParens(fastforward.nn.QuantizedModule, Parens):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_matmul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k_T: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k_mT: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, k, flag: bool):
        x = self.quantizer_x(x)
        k = self.quantizer_k(k)
        a = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        k_T = self.quantizer_k_T(k.T)
        b = fastforward.nn.functional.matmul(a, k_T, output_quantizer=self.quantizer_matmul)
        c = fastforward.nn.functional.add(
            b, self.quantizer_k_0(k[0]), alpha=(2), output_quantizer=self.quantizer_add_1
        )
        d = c if flag else x
        d = self.quantizer_d(d)
        k_mT = self.quantizer_k_mT(k.mT)
        e = fastforward.nn.functional.mul(d, (k_mT), output_quantizer=self.quantizer_mul_1)
        f = fastforward.nn.functional.mul(
            e,
            (
                k  # the key
            ),
            output_quantizer=self.quantizer_mul_2,
        )
        _tmp_1 = fastforward.nn.functional.add(x, k, output_quantizer=self.quantizer_add_2)
        g = fastforward.nn.functional.mul(f, _tmp_1, output_quantizer=self.quantizer_mul_3)
        s = g.sum(0)
        s = self.quantizer_s(s)
        g = fastforward.nn.functional.add(g, s, output_quantizer=self.quantizer_add_3)
        h = [
            fastforward.nn.functional.sigmoid(
                self.quantizer_v(v), output_quantizer=self.quantizer_sigmoid
            )
            for v in (x, k)
        ]
        if not flag:
            return g
        _tmp_2 = x.mean()
        return g, h, _tmp_2

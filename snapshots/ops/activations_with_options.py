import math

import fastforward

from ops.activations_with_options import Acts


class QuantizedActs(fastforward.nn.QuantizedModule, Acts):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_leaky_relu_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_leaky_relu_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_hardtanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_elu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_hardswish: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_hardsigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mish: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_softplus: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_glu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_erf: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.leaky_relu(
            x, 0.2, output_quantizer=self.quantizer_leaky_relu_1
        )
        _tmp_1 = fastforward.nn.functional.mul(x, 1.0, output_quantizer=self.quantizer_mul_1)
        b = fastforward.nn.functional.leaky_relu(
            _tmp_1, negative_slope=0.1, inplace=True, output_quantizer=self.quantizer_leaky_relu_2
        )
        c = fastforward.nn.functional.hardtanh(
            x, 0.0, 6.0, output_quantizer=self.quantizer_hardtanh
        )
        d = fastforward.nn.functional.relu6(x, output_quantizer=self.quantizer_relu6)
        e = fastforward.nn.functional.elu(x, alpha=0.5, output_quantizer=self.quantizer_elu)
        f = fastforward.nn.functional.hardswish(x, output_quantizer=self.quantizer_hardswish)
        g = fastforward.nn.functional.hardsigmoid(
            x, inplace=False, output_quantizer=self.quantizer_hardsigmoid
        )
        h = fastforward.nn.functional.mish(x, output_quantizer=self.quantizer_mish)
        i = fastforward.nn.functional.softplus(
            x, beta=2, threshold=1.5, output_quantizer=self.quantizer_softplus
        )
        j = fastforward.nn.functional.glu(x, dim=-1, output_quantizer=self.quantizer_glu)
        _tmp_2 = fastforward.nn.functional.mul(x, 0.5, output_quantizer=self.quantizer_mul_2)
        _tmp_3 = fastforward.nn.functional.div(
            x, math.sqrt(2.0), output_quantizer=self.quantizer_div
        )
        _tmp_4 = fastforward.nn.functional.erf(_tmp_3, output_quantizer=self.quantizer_erf)
        _tmp_5 = fastforward.nn.functional.add(1.0, _tmp_4, output_quantizer=self.quantizer_add)
        k = fastforward.nn.functional.mul(_tmp_2, _tmp_5, output_quantizer=self.quantizer_mul_3)
        return a, b, c, d, e, f, g, h, i, j, k

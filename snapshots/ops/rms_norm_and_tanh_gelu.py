import math

import fastforward

from ops.rms_norm_and_tanh_gelu import NewGELU, RMSNorm


class QuantizedRMSNorm(fastforward.nn.QuantizedModule, RMSNorm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_rsqrt: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_variance: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_eps: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_hidden_states: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, hidden_states):
        hidden_states = self.quantizer_hidden_states(hidden_states)
        _tmp_1 = hidden_states.pow(2)
        variance = _tmp_1.mean(-1, keepdim=True)
        variance = self.quantizer_variance(variance)
        self_eps = self.quantizer_self_eps(self.eps)
        _tmp_2 = fastforward.nn.functional.add(
            variance, self_eps, output_quantizer=self.quantizer_add
        )
        _tmp_3 = fastforward.nn.functional.rsqrt(_tmp_2, output_quantizer=self.quantizer_rsqrt)
        hidden_states = fastforward.nn.functional.mul(
            hidden_states, _tmp_3, output_quantizer=self.quantizer_mul_1
        )
        self_weight = self.quantizer_self_weight(self.weight)
        return fastforward.nn.functional.mul(
            self_weight, hidden_states, output_quantizer=self.quantizer_mul_2
        )


class QuantizedNewGELU(fastforward.nn.QuantizedModule, NewGELU):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_tanh_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_tanh_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sqrt: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_11: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_4 = fastforward.nn.functional.pow(x, 3.0, output_quantizer=self.quantizer_pow)
        _tmp_5 = fastforward.nn.functional.mul(
            0.044715, _tmp_4, output_quantizer=self.quantizer_mul_1
        )
        _tmp_6 = fastforward.nn.functional.add(x, _tmp_5, output_quantizer=self.quantizer_add_1)
        inner = fastforward.nn.functional.mul(
            math.sqrt(2.0 / math.pi), _tmp_6, output_quantizer=self.quantizer_mul_2
        )
        _tmp_7 = fastforward.nn.functional.mul(0.5, x, output_quantizer=self.quantizer_mul_3)
        _tmp_8 = fastforward.nn.functional.tanh(inner, output_quantizer=self.quantizer_tanh_1)
        _tmp_9 = fastforward.nn.functional.add(1.0, _tmp_8, output_quantizer=self.quantizer_add_2)
        y = fastforward.nn.functional.mul(_tmp_7, _tmp_9, output_quantizer=self.quantizer_mul_4)
        _tmp_10 = fastforward.nn.functional.tanh(x, output_quantizer=self.quantizer_tanh_2)
        _tmp_11 = x.abs()
        _tmp_11 = self.quantizer__tmp_11(_tmp_11)
        _tmp_12 = fastforward.nn.functional.sqrt(_tmp_11, output_quantizer=self.quantizer_sqrt)
        return y, _tmp_10, _tmp_12

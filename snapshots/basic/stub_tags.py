import fastforward

from basic.stub_tags import Tagged


class QuantizedTagged(fastforward.nn.QuantizedModule, Tagged):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_linear_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_linear_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_add_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_add_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_self_acc: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_self_table_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "parameter"
        )
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            weight_quantizer=True
        )
        self.quantizer__tmp_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")
        self.quantizer__tmp_7: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")
        self.quantizer_self_W: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            weight_quantizer=True
        )
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            bias_quantizer=True
        )
        self.quantizer_self_eps: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_self_shift: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "parameter"
        )
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            weight_quantizer=True
        )
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            input_quantizer=True
        )
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            input_quantizer=True
        )

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        self_bias = self.quantizer_self_bias(self.bias)
        self_weight = self.quantizer_self_weight(self.weight)
        _tmp_1 = fastforward.nn.functional.linear(
            x, self_weight, self_bias, output_quantizer=self.quantizer_linear_1
        )
        x = fastforward.nn.functional.add(_tmp_1, y, output_quantizer=self.quantizer_add_1)
        k = self.kernel
        k = self.quantizer_k(k)
        self_W = self.quantizer_self_W(self.W)
        _tmp_2 = fastforward.nn.functional.linear(
            x, self_W, output_quantizer=self.quantizer_linear_2
        )
        _tmp_3 = fastforward.nn.functional.linear(x, k, output_quantizer=self.quantizer_linear_3)
        h = fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add_2)
        _tmp_4 = fastforward.nn.functional.mul(
            h, self.quantizer_self_table_0(self.table[0]), output_quantizer=self.quantizer_mul
        )
        self_shift = self.quantizer_self_shift(self.shift)
        _tmp_5 = fastforward.nn.functional.add(
            _tmp_4, self_shift, output_quantizer=self.quantizer_add_3
        )
        self_eps = self.quantizer_self_eps(self.eps)
        h = fastforward.nn.functional.add(_tmp_5, self_eps, output_quantizer=self.quantizer_add_4)
        _tmp_6 = h.mean(0)
        _tmp_6 = self.quantizer__tmp_6(_tmp_6)
        self.acc = fastforward.nn.functional.add(
            self.quantizer_self_acc(self.acc), _tmp_6, output_quantizer=self.quantizer_add_5
        )
        _tmp_7 = h.sum(1)
        _tmp_7 = self.quantizer__tmp_7(_tmp_7)
        _tmp_8 = fastforward.nn.functional.relu(_tmp_7, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.add(
            _tmp_8, self.quantizer_self_acc(self.acc), output_quantizer=self.quantizer_add_6
        )

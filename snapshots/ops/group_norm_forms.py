import fastforward

from ops.group_norm_forms import Groups


class QuantizedGroups(fastforward.nn.QuantizedModule, Groups):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_group_norm_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_group_norm_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_group_norm_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        self_bias = self.quantizer_self_bias(self.bias)
        self_weight = self.quantizer_self_weight(self.weight)
        a = fastforward.nn.functional.group_norm(
            x, 3, self_weight, self_bias, self.eps, output_quantizer=self.quantizer_group_norm_1
        )
        b = fastforward.nn.functional.group_norm(
            x,
            num_groups=2,
            weight=self_weight,
            eps=1e-3,
            output_quantizer=self.quantizer_group_norm_2,
        )
        c = fastforward.nn.functional.group_norm(x, 6, output_quantizer=self.quantizer_group_norm_3)
        return a, b, c

import fastforward

from basic.attribute_hoisted_in_all_branches import Heads


class QuantizedHeads(fastforward.nn.QuantizedModule, Heads):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_linear_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_linear_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, mode: int):
        x = self.quantizer_x(x)
        self_weight = self.quantizer_self_weight(self.weight)
        if mode == 0:
            self_bias = self.quantizer_self_bias(self.bias)
            return fastforward.nn.functional.linear(
                x, self_weight, self_bias, output_quantizer=self.quantizer_linear_1
            )
        elif mode == 1:
            return fastforward.nn.functional.linear(
                x, self_weight, output_quantizer=self.quantizer_linear_2
            )
        else:
            _tmp_1 = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)
            return fastforward.nn.functional.linear(
                _tmp_1, self_weight, output_quantizer=self.quantizer_linear_3
            )

import fastforward
import my_ops

from optable.overload_newest_first import TwoCalls


class QuantizedTwoCalls(fastforward.nn.QuantizedModule, TwoCalls):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_linear_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        self_weight = self.quantizer_self_weight(self.weight)
        # two arguments: the custom overload; three: falls through to the default
        a = my_ops.linear_nobias(x, self_weight, output_quantizer=self.quantizer_linear_1)
        self_bias = self.quantizer_self_bias(self.bias)
        b = fastforward.nn.functional.linear(
            x, self_weight, self_bias, output_quantizer=self.quantizer_linear_2
        )
        return a, b

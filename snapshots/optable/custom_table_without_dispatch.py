import fastforward

from optable.custom_table_without_dispatch import Bi


class QuantizedBi(fastforward.nn.QuantizedModule, Bi):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bilinear: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, a, b):
        a = self.quantizer_a(a)
        b = self.quantizer_b(b)
        self_bias = self.quantizer_self_bias(self.bias)
        self_weight = self.quantizer_self_weight(self.weight)
        return fastforward.nn.functional.bilinear(
            a, b, self_weight, self_bias, output_quantizer=self.quantizer_bilinear
        )

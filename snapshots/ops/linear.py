import fastforward

from ops.linear import Linear


class QuantizedLinear(fastforward.nn.QuantizedModule, Linear):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, weight):
        input = self.quantizer_input(input)
        weight = self.quantizer_weight(weight)
        r0 = fastforward.nn.functional.linear(input, weight, output_quantizer=self.quantizer_linear)
        return r0

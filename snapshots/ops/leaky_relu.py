import fastforward

from ops.leaky_relu import LeakyRelu


class QuantizedLeakyRelu(fastforward.nn.QuantizedModule, LeakyRelu):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_leaky_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.leaky_relu(input, output_quantizer=self.quantizer_leaky_relu)
        return r0

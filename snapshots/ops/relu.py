import fastforward

from ops.relu import Relu


class QuantizedRelu(fastforward.nn.QuantizedModule, Relu):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.relu(input, output_quantizer=self.quantizer_relu_1)
        r1 = fastforward.nn.functional.relu(input, output_quantizer=self.quantizer_relu_2)
        return r0, r1

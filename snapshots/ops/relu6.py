import fastforward

from ops.relu6 import Relu6


class QuantizedRelu6(fastforward.nn.QuantizedModule, Relu6):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.relu6(input, output_quantizer=self.quantizer_relu6)
        return r0

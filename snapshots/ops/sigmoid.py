import fastforward

from ops.sigmoid import Sigmoid


class QuantizedSigmoid(fastforward.nn.QuantizedModule, Sigmoid):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.sigmoid(input, output_quantizer=self.quantizer_sigmoid_1)
        r1 = fastforward.nn.functional.sigmoid(input, output_quantizer=self.quantizer_sigmoid_2)
        return r0, r1

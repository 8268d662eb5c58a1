import fastforward

from basic.quantized_op_result_not_requantized import Chain


class QuantizedChain(fastforward.nn.QuantizedModule, Chain):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        x = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        x = fastforward.nn.functional.mul(x, x, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)

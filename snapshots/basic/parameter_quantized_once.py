import fastforward

from basic.parameter_quantized_once import Twice


class QuantizedTwice(fastforward.nn.QuantizedModule, Twice):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        y = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        z = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        return fastforward.nn.functional.add(y, z, output_quantizer=self.quantizer_add)

import fastforward

from basic.relu_through_aliases import Act


class QuantizedAct(fastforward.nn.QuantizedModule, Act):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_z: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y, z):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        z = self.quantizer_z(z)
        a = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu_1)
        b = fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu_2)
        c = fastforward.nn.functional.relu(z, output_quantizer=self.quantizer_relu_3)
        return a, b, c

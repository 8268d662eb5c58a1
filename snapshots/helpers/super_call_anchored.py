import fastforward

from helpers.super_call_anchored import Base, Child


class QuantizedBase(fastforward.nn.QuantizedModule, Base):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)


class QuantizedChild(fastforward.nn.QuantizedModule, Child):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        y = super(Child, self).forward(x)
        y = self.quantizer_y(y)
        return fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)

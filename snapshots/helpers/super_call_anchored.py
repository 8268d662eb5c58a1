import fastforward

from helpers.super_call_anchored import Base, Child, Named, Quiet


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


class QuantizedNamed(fastforward.nn.QuantizedModule, Named):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = Base.forward(self, x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.add(_tmp_1, 1, output_quantizer=self.quantizer_add)


class QuantizedQuiet(fastforward.nn.QuantizedModule, Quiet):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        if super(Quiet, self).extra_repr() == "":
            x = fastforward.nn.functional.mul(x, 3, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)

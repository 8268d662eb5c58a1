import fastforward

from helpers.inherited_forward_copied import Base, Child


class QuantizedBase(fastforward.nn.QuantizedModule, Base):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_tanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.tanh(x, output_quantizer=self.quantizer_tanh)
        return fastforward.nn.functional.add(_tmp_1, x, output_quantizer=self.quantizer_add)


class QuantizedChild(fastforward.nn.QuantizedModule, Child):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_tanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_2 = fastforward.nn.functional.tanh(x, output_quantizer=self.quantizer_tanh)
        return fastforward.nn.functional.add(_tmp_2, x, output_quantizer=self.quantizer_add)

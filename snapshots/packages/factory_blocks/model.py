import fastforward

from factory_blocks.components import Block, Gate, Head, Scale
from factory_blocks.model import Inner, Model


class QuantizedModel(fastforward.nn.QuantizedModule, Model):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.encoder(x)
        _tmp_2 = self.head(_tmp_1)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.mul(_tmp_2, 2, output_quantizer=self.quantizer_mul)


class QuantizedInner(fastforward.nn.QuantizedModule, Inner):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        _tmp_3 = self.enc(x)
        _tmp_4 = self.extra[0](_tmp_3)
        _tmp_5 = self.gate(_tmp_4)
        return self.stack(_tmp_5)


class QuantizedBlock(fastforward.nn.QuantizedModule, Block):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_6 = self.lin(x)
        _tmp_6 = self.quantizer__tmp_6(_tmp_6)
        _tmp_7 = fastforward.nn.functional.relu(_tmp_6, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.add(_tmp_7, x, output_quantizer=self.quantizer_add)


class QuantizedGate(fastforward.nn.QuantizedModule, Gate):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_8 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        return fastforward.nn.functional.mul(x, _tmp_8, output_quantizer=self.quantizer_mul)


class QuantizedScale(fastforward.nn.QuantizedModule, Scale):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.mul(x, 0.5, output_quantizer=self.quantizer_mul)


class QuantizedHead(fastforward.nn.QuantizedModule, Head):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_9: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_9 = self.lin(x)
        _tmp_9 = self.quantizer__tmp_9(_tmp_9)
        return fastforward.nn.functional.sigmoid(_tmp_9, output_quantizer=self.quantizer_sigmoid)

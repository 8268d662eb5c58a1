import fastforward

from models.script_calls_on_the_model import Block, Net


class QuantizedBlock(fastforward.nn.QuantizedModule, Block):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.fc(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.relu(_tmp_1, output_quantizer=self.quantizer_relu)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = self.block(x)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add)

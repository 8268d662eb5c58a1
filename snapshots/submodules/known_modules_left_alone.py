import fastforward

from submodules.known_modules_left_alone import Head


class QuantizedHead(fastforward.nn.QuantizedModule, Head):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.up(x)
        y = self.act(_tmp_1)
        y = self.quantizer_y(y)
        _tmp_2 = self.gate(y)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.mul(y, _tmp_2, output_quantizer=self.quantizer_mul)
        _tmp_4 = self.norm(_tmp_3)
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        _tmp_5 = x.mean()
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        return fastforward.nn.functional.add(_tmp_4, _tmp_5, output_quantizer=self.quantizer_add)

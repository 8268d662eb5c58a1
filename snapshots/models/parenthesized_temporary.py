import fastforward

from models.parenthesized_temporary import Norm


class QuantizedNorm(fastforward.nn.QuantizedModule, Norm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_8: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = x.abs()
        _tmp_2 = _tmp_1.sum()
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add_1)
        y = fastforward.nn.functional.div(x, _tmp_3, output_quantizer=self.quantizer_div)
        _tmp_4 = fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)
        _tmp_5 = fastforward.nn.functional.mul(_tmp_4, 2, output_quantizer=self.quantizer_mul)
        _tmp_6 = _tmp_5.mean()
        _tmp_6 = self.quantizer__tmp_6(_tmp_6)
        _tmp_7 = y.sum(0)
        _tmp_8 = _tmp_7.max()
        _tmp_8 = self.quantizer__tmp_8(_tmp_8)
        return fastforward.nn.functional.add(_tmp_6, _tmp_8, output_quantizer=self.quantizer_add_2)

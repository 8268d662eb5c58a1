import fastforward

from patterns.pattern_capture_complex_expression import Complex


class QuantizedComplex(fastforward.nn.QuantizedModule, Complex):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        _tmp_1 = y.exp()
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)
        _tmp_3 = fastforward.nn.functional.add(
            self.quantizer_x_1(x[1:]), _tmp_2, output_quantizer=self.quantizer_add
        )
        return fastforward.nn.functional.sigmoid(_tmp_3, output_quantizer=self.quantizer_sigmoid)

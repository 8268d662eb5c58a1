import fastforward

from models.unpacking_assignment_names import Mix, flip, has_flip, rest, scale, shift


class QuantizedMix(fastforward.nn.QuantizedModule, Mix):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x_2(x)
        if has_flip:
            x = flip(x)
            x = self.quantizer_x_1(x)
        _tmp_1 = fastforward.nn.functional.mul(x, scale, output_quantizer=self.quantizer_mul)
        _tmp_2 = fastforward.nn.functional.add(_tmp_1, shift, output_quantizer=self.quantizer_add_1)
        _tmp_3 = fastforward.nn.functional.relu(_tmp_2, output_quantizer=self.quantizer_relu)
        _tmp_4 = len(rest)
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add_2)

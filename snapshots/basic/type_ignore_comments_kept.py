import fastforward

from basic.type_ignore_comments_kept import Net


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        y = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)  # type: ignore[arg-type]
        _tmp_1 = fastforward.nn.functional.sigmoid(y, output_quantizer=self.quantizer_sigmoid)
        _tmp_2 = x.sum()
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        z = fastforward.nn.functional.mul(_tmp_1, _tmp_2, output_quantizer=self.quantizer_mul)  # type: ignore[operator]
        return fastforward.nn.functional.add(y, z, output_quantizer=self.quantizer_add)  # type: ignore

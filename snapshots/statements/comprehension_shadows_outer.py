import fastforward

from statements.comprehension_shadows_outer import Net


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_ys_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, xs):
        x = self.quantizer_x_3(x)
        ys = [
            fastforward.nn.functional.relu(
                self.quantizer_x_1(x), output_quantizer=self.quantizer_relu
            )
            for x in xs
        ]
        s = sum(
            fastforward.nn.functional.mul(
                self.quantizer_x_2(x), 2, output_quantizer=self.quantizer_mul
            )
            for x in xs
        )
        s = self.quantizer_s(s)
        _tmp_1 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        _tmp_2 = fastforward.nn.functional.add(
            _tmp_1, self.quantizer_ys_0(ys[0]), output_quantizer=self.quantizer_add_1
        )
        return fastforward.nn.functional.add(_tmp_2, s, output_quantizer=self.quantizer_add_2)

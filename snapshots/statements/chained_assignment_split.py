import fastforward

from statements.chained_assignment_split import Chained


class QuantizedChained(fastforward.nn.QuantizedModule, Chained):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_c: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = b = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        c = d = x.exp()
        c = self.quantizer_c(c)
        d = self.quantizer_d(d)
        _tmp_1 = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add_1)
        _tmp_2 = fastforward.nn.functional.mul(c, d, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add_2)

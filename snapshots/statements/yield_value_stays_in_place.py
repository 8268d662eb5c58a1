import fastforward

from statements.yield_value_stays_in_place import Net


def quantized_scaled(
    x,
    *,
    quantizer_relu: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_sigmoid: fastforward.nn.Quantizer,
    quantizer_i: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    for i in range(3):
        i = quantizer_i(i)
        _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=quantizer_relu)
        yield fastforward.nn.functional.mul(_tmp_1, i, output_quantizer=quantizer_mul)
    _tmp_2 = fastforward.nn.functional.sigmoid(x, output_quantizer=quantizer_sigmoid)
    yield x, _tmp_2


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_i: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        *steps, (a, b) = quantized_scaled(
            x,
            quantizer_relu=self.quantizer_scaled_relu,
            quantizer_mul=self.quantizer_scaled_mul,
            quantizer_sigmoid=self.quantizer_scaled_sigmoid,
            quantizer_i=self.quantizer_scaled_i,
            quantizer_x=self.quantizer_scaled_x,
        )
        a = self.quantizer_a(a)
        b = self.quantizer_b(b)
        _tmp_3 = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add)
        return steps, _tmp_3

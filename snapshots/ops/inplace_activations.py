import fastforward

from ops.inplace_activations import Acts


class QuantizedActs(fastforward.nn.QuantizedModule, Acts):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_silu_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_silu_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        h = fastforward.nn.functional.mul(x, 2.0, output_quantizer=self.quantizer_mul_1)
        a = fastforward.nn.functional.silu(h, inplace=True, output_quantizer=self.quantizer_silu_1)
        g = fastforward.nn.functional.mul(y, 3.0, output_quantizer=self.quantizer_mul_2)
        b = fastforward.nn.functional.relu(g, True, output_quantizer=self.quantizer_relu_1)
        c = fastforward.nn.functional.relu(x, inplace=False, output_quantizer=self.quantizer_relu_2)
        d = fastforward.nn.functional.silu(y, False, output_quantizer=self.quantizer_silu_2)
        e = fastforward.nn.functional.relu(a, output_quantizer=self.quantizer_relu_3)
        return a, b, c, d, e, h, g

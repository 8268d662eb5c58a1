import fastforward

from ops.div_rounding_mode import Divide


class QuantizedDivide(fastforward.nn.QuantizedModule, Divide):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_div_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        a = fastforward.nn.functional.div(
            x, y, rounding_mode="floor", output_quantizer=self.quantizer_div_1
        )
        b = fastforward.nn.functional.div(
            x, 3.0, rounding_mode="trunc", output_quantizer=self.quantizer_div_2
        )
        c = fastforward.nn.functional.div(
            x, y, rounding_mode=None, output_quantizer=self.quantizer_div_3
        )
        d = fastforward.nn.functional.div(x, other=y, output_quantizer=self.quantizer_div_4)
        _tmp_1 = fastforward.nn.functional.div(x, y, output_quantizer=self.quantizer_div_5)
        return a, b, c, d, _tmp_1

import fastforward

from statements.try_except_finally_merge import Tries


class QuantizedTries(fastforward.nn.QuantizedModule, Tries):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x_2(x)
        try:
            y = x.exp()
            y = self.quantizer_y_1(y)
        except RuntimeError:
            y = x.abs()
            y = self.quantizer_y_2(y)
        else:
            x = x.neg()
            x = self.quantizer_x_1(x)
        finally:
            pass
        return fastforward.nn.functional.mul(y, x, output_quantizer=self.quantizer_mul)

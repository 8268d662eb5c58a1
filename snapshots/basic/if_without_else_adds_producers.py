import fastforward

from basic.if_without_else_adds_producers import Maybe


class QuantizedMaybe(fastforward.nn.QuantizedModule, Maybe):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        y = x.clone()
        y = self.quantizer_y_1(y)
        if flag:
            y = x.flip(0)
            y = self.quantizer_y_2(y)
        return fastforward.nn.functional.mul(y, 3, output_quantizer=self.quantizer_mul)

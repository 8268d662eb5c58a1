import fastforward

from statements.elif_and_else_share_expression import Modes


class QuantizedModes(fastforward.nn.QuantizedModule, Modes):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_linear_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_linear_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, mode: int):
        x = self.quantizer_x(x)
        if mode == 0:
            y = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)
        elif mode == 1:
            self_weight = self.quantizer_self_weight(self.weight)
            y = fastforward.nn.functional.linear(
                x, self_weight, output_quantizer=self.quantizer_linear_1
            )
        else:
            self_weight = self.quantizer_self_weight(self.weight)
            y = fastforward.nn.functional.linear(
                x, self_weight, output_quantizer=self.quantizer_linear_2
            )
        return y

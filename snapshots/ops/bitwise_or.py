import fastforward

from ops.bitwise_or import BitwiseOr


class QuantizedBitwiseOr(fastforward.nn.QuantizedModule, BitwiseOr):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_or: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.bitwise_or(
            input, other, output_quantizer=self.quantizer_bitwise_or
        )
        return r0

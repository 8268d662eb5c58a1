import fastforward

from ops.bitwise_and import BitwiseAnd


class QuantizedBitwiseAnd(fastforward.nn.QuantizedModule, BitwiseAnd):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_and: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.bitwise_and(
            input, other, output_quantizer=self.quantizer_bitwise_and
        )
        return r0

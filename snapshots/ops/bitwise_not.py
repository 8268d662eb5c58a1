import fastforward

from ops.bitwise_not import BitwiseNot


class QuantizedBitwiseNot(fastforward.nn.QuantizedModule, BitwiseNot):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_not: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.bitwise_not(
            input, output_quantizer=self.quantizer_bitwise_not
        )
        return r0

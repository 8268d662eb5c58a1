import fastforward

from ops.bitwise_left_shift import BitwiseLeftShift


class QuantizedBitwiseLeftShift(fastforward.nn.QuantizedModule, BitwiseLeftShift):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_left_shift: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.bitwise_left_shift(
            input, other, output_quantizer=self.quantizer_bitwise_left_shift
        )
        return r0

import fastforward

from ops.bitwise_right_shift import BitwiseRightShift


class QuantizedBitwiseRightShift(fastforward.nn.QuantizedModule, BitwiseRightShift):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_right_shift: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.bitwise_right_shift(
            input, other, output_quantizer=self.quantizer_bitwise_right_shift
        )
        return r0

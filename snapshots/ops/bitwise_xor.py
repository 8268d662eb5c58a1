import fastforward

from ops.bitwise_xor import BitwiseXor


class QuantizedBitwiseXor(fastforward.nn.QuantizedModule, BitwiseXor):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_xor: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.bitwise_xor(
            input, other, output_quantizer=self.quantizer_bitwise_xor
        )
        return r0

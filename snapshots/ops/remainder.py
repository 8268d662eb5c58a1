import fastforward

from ops.remainder import Remainder


class QuantizedRemainder(fastforward.nn.QuantizedModule, Remainder):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_remainder: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.remainder(
            input, other, output_quantizer=self.quantizer_remainder
        )
        return r0

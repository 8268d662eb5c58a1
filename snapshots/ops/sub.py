import fastforward

from ops.sub import Sub


class QuantizedSub(fastforward.nn.QuantizedModule, Sub):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.sub(input, other, output_quantizer=self.quantizer_sub)
        return r0

import fastforward

from ops.add import Add


class QuantizedAdd(fastforward.nn.QuantizedModule, Add):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.add(input, other, output_quantizer=self.quantizer_add)
        return r0

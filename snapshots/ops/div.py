import fastforward

from ops.div import Div


class QuantizedDiv(fastforward.nn.QuantizedModule, Div):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.div(input, other, output_quantizer=self.quantizer_div)
        return r0

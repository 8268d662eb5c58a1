import fastforward

from ops.positive import Positive


class QuantizedPositive(fastforward.nn.QuantizedModule, Positive):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_positive: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.positive(input, output_quantizer=self.quantizer_positive)
        return r0

import fastforward

from ops.negative import Negative


class QuantizedNegative(fastforward.nn.QuantizedModule, Negative):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_negative: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.negative(input, output_quantizer=self.quantizer_negative)
        return r0

import fastforward

from ops.pow import Pow


class QuantizedPow(fastforward.nn.QuantizedModule, Pow):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_exponent: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, exponent):
        input = self.quantizer_input(input)
        exponent = self.quantizer_exponent(exponent)
        r0 = fastforward.nn.functional.pow(input, exponent, output_quantizer=self.quantizer_pow)
        return r0

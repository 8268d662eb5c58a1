import fastforward

from ops.sqrt import Sqrt


class QuantizedSqrt(fastforward.nn.QuantizedModule, Sqrt):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sqrt: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.sqrt(input, output_quantizer=self.quantizer_sqrt)
        return r0

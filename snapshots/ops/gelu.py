import fastforward

from ops.gelu import Gelu


class QuantizedGelu(fastforward.nn.QuantizedModule, Gelu):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_gelu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.gelu(input, output_quantizer=self.quantizer_gelu)
        return r0

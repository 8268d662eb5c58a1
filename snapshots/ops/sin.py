import fastforward

from ops.sin import Sin


class QuantizedSin(fastforward.nn.QuantizedModule, Sin):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sin: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.sin(input, output_quantizer=self.quantizer_sin)
        return r0

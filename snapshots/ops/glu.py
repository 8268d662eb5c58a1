import fastforward

from ops.glu import Glu


class QuantizedGlu(fastforward.nn.QuantizedModule, Glu):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_glu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.glu(input, output_quantizer=self.quantizer_glu)
        return r0

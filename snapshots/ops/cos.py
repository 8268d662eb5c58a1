import fastforward

from ops.cos import Cos


class QuantizedCos(fastforward.nn.QuantizedModule, Cos):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cos: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.cos(input, output_quantizer=self.quantizer_cos)
        return r0

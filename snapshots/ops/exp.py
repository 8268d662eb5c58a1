import fastforward

from ops.exp import Exp


class QuantizedExp(fastforward.nn.QuantizedModule, Exp):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_exp: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.exp(input, output_quantizer=self.quantizer_exp)
        return r0

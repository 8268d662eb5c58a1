import fastforward

from ops.elu import Elu


class QuantizedElu(fastforward.nn.QuantizedModule, Elu):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_elu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.elu(input, output_quantizer=self.quantizer_elu)
        return r0

import fastforward

from ops.softplus import Softplus


class QuantizedSoftplus(fastforward.nn.QuantizedModule, Softplus):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_softplus: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.softplus(input, output_quantizer=self.quantizer_softplus)
        return r0

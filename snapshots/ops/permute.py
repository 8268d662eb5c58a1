import fastforward

from ops.permute import Permute


class QuantizedPermute(fastforward.nn.QuantizedModule, Permute):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_permute: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.permute(input, (2,), output_quantizer=self.quantizer_permute)
        return r0

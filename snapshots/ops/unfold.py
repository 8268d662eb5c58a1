import fastforward

from ops.unfold import Unfold


class QuantizedUnfold(fastforward.nn.QuantizedModule, Unfold):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_unfold: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.unfold(input, (2,), output_quantizer=self.quantizer_unfold)
        return r0

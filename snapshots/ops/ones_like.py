import fastforward

from ops.ones_like import OnesLike


class QuantizedOnesLike(fastforward.nn.QuantizedModule, OnesLike):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_ones_like: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.ones_like(input, output_quantizer=self.quantizer_ones_like)
        return r0

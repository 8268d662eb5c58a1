import fastforward

from ops.empty_like import EmptyLike


class QuantizedEmptyLike(fastforward.nn.QuantizedModule, EmptyLike):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_empty_like: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.empty_like(input, output_quantizer=self.quantizer_empty_like)
        return r0

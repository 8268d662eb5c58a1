import fastforward

from ops.full_like import FullLike


class QuantizedFullLike(fastforward.nn.QuantizedModule, FullLike):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_full_like: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.full_like(
            input, 1, output_quantizer=self.quantizer_full_like
        )
        return r0

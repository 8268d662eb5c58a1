import fastforward

from ops.zeros_like import ZerosLike


class QuantizedZerosLike(fastforward.nn.QuantizedModule, ZerosLike):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_zeros_like: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.zeros_like(input, output_quantizer=self.quantizer_zeros_like)
        return r0

import fastforward

from ops.silu import Silu


class QuantizedSilu(fastforward.nn.QuantizedModule, Silu):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_silu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.silu(input, output_quantizer=self.quantizer_silu)
        return r0

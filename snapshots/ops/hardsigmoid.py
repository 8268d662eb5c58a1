import fastforward

from ops.hardsigmoid import Hardsigmoid


class QuantizedHardsigmoid(fastforward.nn.QuantizedModule, Hardsigmoid):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_hardsigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.hardsigmoid(
            input, output_quantizer=self.quantizer_hardsigmoid
        )
        return r0

import fastforward

from ops.mish import Mish


class QuantizedMish(fastforward.nn.QuantizedModule, Mish):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mish: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.mish(input, output_quantizer=self.quantizer_mish)
        return r0

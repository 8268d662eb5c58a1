import fastforward

from ops.hardswish import Hardswish


class QuantizedHardswish(fastforward.nn.QuantizedModule, Hardswish):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_hardswish: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.hardswish(input, output_quantizer=self.quantizer_hardswish)
        return r0

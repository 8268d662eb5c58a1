import fastforward

from ops.normalize import Normalize


class QuantizedNormalize(fastforward.nn.QuantizedModule, Normalize):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_normalize: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.normalize(input, output_quantizer=self.quantizer_normalize)
        return r0

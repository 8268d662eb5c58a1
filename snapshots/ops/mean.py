import fastforward

from ops.mean import Mean


class QuantizedMean(fastforward.nn.QuantizedModule, Mean):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mean: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.mean(input, output_quantizer=self.quantizer_mean)
        return r0

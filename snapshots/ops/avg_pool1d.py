import fastforward

from ops.avg_pool1d import AvgPool1d


class QuantizedAvgPool1d(fastforward.nn.QuantizedModule, AvgPool1d):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_avg_pool1d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.avg_pool1d(
            input, 2, output_quantizer=self.quantizer_avg_pool1d
        )
        return r0

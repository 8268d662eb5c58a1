import fastforward

from ops.avg_pool3d import AvgPool3d


class QuantizedAvgPool3d(fastforward.nn.QuantizedModule, AvgPool3d):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_avg_pool3d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.avg_pool3d(
            input, 2, output_quantizer=self.quantizer_avg_pool3d
        )
        return r0

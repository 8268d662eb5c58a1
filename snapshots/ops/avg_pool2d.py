import fastforward

from ops.avg_pool2d import AvgPool2d


class QuantizedAvgPool2d(fastforward.nn.QuantizedModule, AvgPool2d):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_avg_pool2d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.avg_pool2d(
            input, 2, output_quantizer=self.quantizer_avg_pool2d
        )
        return r0

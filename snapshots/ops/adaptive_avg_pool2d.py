import fastforward

from ops.adaptive_avg_pool2d import AdaptiveAvgPool2d


class QuantizedAdaptiveAvgPool2d(fastforward.nn.QuantizedModule, AdaptiveAvgPool2d):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_adaptive_avg_pool2d: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.adaptive_avg_pool2d(
            input, 2, output_quantizer=self.quantizer_adaptive_avg_pool2d
        )
        return r0

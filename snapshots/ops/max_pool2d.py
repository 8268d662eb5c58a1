import fastforward

from ops.max_pool2d import MaxPool2d


class QuantizedMaxPool2d(fastforward.nn.QuantizedModule, MaxPool2d):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_max_pool2d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.max_pool2d(
            input, 2, output_quantizer=self.quantizer_max_pool2d
        )
        return r0

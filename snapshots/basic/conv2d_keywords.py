import fastforward

from basic.conv2d_keywords import Conv


class QuantizedConv(fastforward.nn.QuantizedModule, Conv):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_conv2d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        self_bias = self.quantizer_self_bias(self.bias)
        self_weight = self.quantizer_self_weight(self.weight)
        return fastforward.nn.functional.conv2d(
            x,
            self_weight,
            self_bias,
            stride=self.stride,
            padding=1,
            output_quantizer=self.quantizer_conv2d,
        )

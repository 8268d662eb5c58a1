import fastforward

from ops.conv_transpose3d import ConvTranspose3d


class QuantizedConvTranspose3d(fastforward.nn.QuantizedModule, ConvTranspose3d):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_conv_transpose3d_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_conv_transpose3d_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, weight):
        input = self.quantizer_input(input)
        weight = self.quantizer_weight(weight)
        r0 = fastforward.nn.functional.conv_transpose3d(
            input, weight, output_quantizer=self.quantizer_conv_transpose3d_1
        )
        r1 = fastforward.nn.functional.conv_transpose3d(
            input, weight, output_quantizer=self.quantizer_conv_transpose3d_2
        )
        return r0, r1

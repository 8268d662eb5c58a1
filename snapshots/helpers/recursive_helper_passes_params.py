import fastforward

from helpers.recursive_helper_passes_params import Repeat


def quantized_repeat_relu(
    x, n: int, *, quantizer_relu: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    if n == 0:
        return x
    _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=quantizer_relu)
    return quantized_repeat_relu(
        _tmp_1, n - 1, quantizer_relu=quantizer_relu, quantizer_x=quantizer_x
    )


class QuantizedRepeat(fastforward.nn.QuantizedModule, Repeat):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_repeat_relu_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_repeat_relu_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        return quantized_repeat_relu(
            x,
            3,
            quantizer_relu=self.quantizer_repeat_relu_relu,
            quantizer_x=self.quantizer_repeat_relu_x,
        )

import fastforward

from helpers.recursive_helper_passes_params import Repeat


def quantized_repeat_relu(
    x,
    n: int,
    *,
    quantizer_relu: fastforward.nn.Quantizer,
    quantizer_sub: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_n: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    n = quantizer_n(n)
    if n == 0:
        return x
    _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=quantizer_relu)
    _tmp_2 = fastforward.nn.functional.sub(n, 1, output_quantizer=quantizer_sub)
    return quantized_repeat_relu(
        _tmp_1,
        _tmp_2,
        quantizer_relu=quantizer_relu,
        quantizer_sub=quantizer_sub,
        quantizer_x=quantizer_x,
        quantizer_n=quantizer_n,
    )


class QuantizedRepeat(fastforward.nn.QuantizedModule, Repeat):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_repeat_relu_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_repeat_relu_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_repeat_relu_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_repeat_relu_n: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        return quantized_repeat_relu(
            x,
            3,
            quantizer_relu=self.quantizer_repeat_relu_relu,
            quantizer_sub=self.quantizer_repeat_relu_sub,
            quantizer_x=self.quantizer_repeat_relu_x,
            quantizer_n=self.quantizer_repeat_relu_n,
        )

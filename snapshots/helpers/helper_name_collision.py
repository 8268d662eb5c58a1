import fastforward

from helpers.helper_name_collision import Normalize, quantized_norm


def quantized_norm_2(
    x,
    *,
    quantizer_div: fastforward.nn.Quantizer,
    quantizer__tmp_1: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = x.sum()
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    return fastforward.nn.functional.div(x, _tmp_1, output_quantizer=quantizer_div)


class QuantizedNormalize(fastforward.nn.QuantizedModule, Normalize):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_norm_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_norm__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_norm_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = quantized_norm_2(
            x,
            quantizer_div=self.quantizer_norm_div,
            quantizer__tmp_1=self.quantizer_norm__tmp_1,
            quantizer_x=self.quantizer_norm_x,
        )
        return quantized_norm(_tmp_2)

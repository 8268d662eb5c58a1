import fastforward

from helpers.quantizer_names_stay_distinct import Net


def quantized_helper(
    x,
    quantizer_scale=2.0,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x_1: fastforward.nn.Quantizer,
    quantizer_x_1_1: fastforward.nn.Quantizer,
    quantizer_x_2: fastforward.nn.Quantizer,
    quantizer_scale_1: fastforward.nn.Quantizer,
):
    x = quantizer_x_2(x)
    quantizer_scale = quantizer_scale_1(quantizer_scale)
    x_1 = x.exp()
    x_1 = quantizer_x_1(x_1)
    y = fastforward.nn.functional.add(x_1, x, output_quantizer=quantizer_add)
    x = y.abs()
    x = quantizer_x_1_1(x)
    return fastforward.nn.functional.mul(x, quantizer_scale, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_x_1_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_quantizer_scale: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )

    def forward(self, x):
        x = self.quantizer_x_2(x)
        x_1 = x.exp()
        x_1 = self.quantizer_x_1(x_1)
        y = fastforward.nn.functional.add(x_1, x, output_quantizer=self.quantizer_add_1)
        x = y.abs()
        x = self.quantizer_x_1_1(x)
        _tmp_1 = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)
        _tmp_2 = quantized_helper(
            x,
            quantizer_add=self.quantizer_helper_add,
            quantizer_mul=self.quantizer_helper_mul,
            quantizer_x_1=self.quantizer_helper_x_1,
            quantizer_x_1_1=self.quantizer_helper_x_1_1,
            quantizer_x_2=self.quantizer_helper_x_2,
            quantizer_scale_1=self.quantizer_helper_quantizer_scale,
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add_2)

import fastforward

from helpers.three_deep_helper_chain import Deep


def quantized_outer_helper(
    x,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer__tmp_1: fastforward.nn.Quantizer,
    quantizer__tmp_3: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_middle_inner_helper_mul_1: fastforward.nn.Quantizer,
    quantizer_middle_inner_helper_x_1: fastforward.nn.Quantizer,
    quantizer_middle_inner_helper_mul_2: fastforward.nn.Quantizer,
    quantizer_middle_inner_helper_x_2: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = quantized_middle(
        x,
        quantizer_inner_helper_mul=quantizer_middle_inner_helper_mul_1,
        quantizer_inner_helper_x=quantizer_middle_inner_helper_x_1,
    )
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    _tmp_2 = fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)
    _tmp_3 = quantized_middle(
        _tmp_2,
        quantizer_inner_helper_mul=quantizer_middle_inner_helper_mul_2,
        quantizer_inner_helper_x=quantizer_middle_inner_helper_x_2,
    )
    _tmp_3 = quantizer__tmp_3(_tmp_3)
    return fastforward.nn.functional.add(_tmp_1, _tmp_3, output_quantizer=quantizer_add)


def quantized_middle(
    x,
    *,
    quantizer_inner_helper_mul: fastforward.nn.Quantizer,
    quantizer_inner_helper_x: fastforward.nn.Quantizer,
):
    return quantized_inner_helper(
        x, quantizer_mul=quantizer_inner_helper_mul, quantizer_x=quantizer_inner_helper_x
    )


def quantized_inner_helper(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, x, output_quantizer=quantizer_mul)


class QuantizedDeep(fastforward.nn.QuantizedModule, Deep):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_outer_helper_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_helper_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_helper__tmp_1: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_outer_helper__tmp_3: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_outer_helper_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_helper_middle_inner_helper_mul_1: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_outer_helper_middle_inner_helper_x_1: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_outer_helper_middle_inner_helper_mul_2: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_outer_helper_middle_inner_helper_x_2: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )

    def forward(self, x):
        return quantized_outer_helper(
            x,
            quantizer_mul=self.quantizer_outer_helper_mul,
            quantizer_add=self.quantizer_outer_helper_add,
            quantizer__tmp_1=self.quantizer_outer_helper__tmp_1,
            quantizer__tmp_3=self.quantizer_outer_helper__tmp_3,
            quantizer_x=self.quantizer_outer_helper_x,
            quantizer_middle_inner_helper_mul_1=self.quantizer_outer_helper_middle_inner_helper_mul_1,
            quantizer_middle_inner_helper_x_1=self.quantizer_outer_helper_middle_inner_helper_x_1,
            quantizer_middle_inner_helper_mul_2=self.quantizer_outer_helper_middle_inner_helper_mul_2,
            quantizer_middle_inner_helper_x_2=self.quantizer_outer_helper_middle_inner_helper_x_2,
        )

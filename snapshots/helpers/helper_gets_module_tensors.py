import fastforward

from helpers.helper_gets_module_tensors import Net


def quantized_my_linear(
    x,
    w,
    b=None,
    *,
    quantizer_linear: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_w: fastforward.nn.Quantizer,
    quantizer_b: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    w = quantizer_w(w)
    b = quantizer_b(b)
    return fastforward.nn.functional.linear(x, w, b, output_quantizer=quantizer_linear)


def quantized_scaled(
    x,
    s,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_s: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    s = quantizer_s(s)
    return fastforward.nn.functional.mul(x, s, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")
        self.quantizer_my_linear_linear_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_my_linear_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_my_linear_w_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            weight_quantizer=True
        )
        self.quantizer_my_linear_b_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            bias_quantizer=True
        )
        self.quantizer_my_linear_linear_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_my_linear_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_my_linear_w_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            weight_quantizer=True
        )
        self.quantizer_my_linear_b_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_scaled_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_scaled_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_scaled_s_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "parameter"
        )
        self.quantizer_scaled_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_scaled_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )
        self.quantizer_scaled_s_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            "activation"
        )

    def forward(self, x):
        h = quantized_my_linear(
            x,
            self.weight,
            self.bias,
            quantizer_linear=self.quantizer_my_linear_linear_1,
            quantizer_x=self.quantizer_my_linear_x_1,
            quantizer_w=self.quantizer_my_linear_w_1,
            quantizer_b=self.quantizer_my_linear_b_1,
        )
        h = quantized_my_linear(
            h,
            w=self.proj,
            quantizer_linear=self.quantizer_my_linear_linear_2,
            quantizer_x=self.quantizer_my_linear_x_2,
            quantizer_w=self.quantizer_my_linear_w_2,
            quantizer_b=self.quantizer_my_linear_b_2,
        )
        _tmp_1 = quantized_scaled(
            h,
            self.gain,
            quantizer_mul=self.quantizer_scaled_mul_1,
            quantizer_x=self.quantizer_scaled_x_1,
            quantizer_s=self.quantizer_scaled_s_1,
        )
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = quantized_scaled(
            h,
            x,
            quantizer_mul=self.quantizer_scaled_mul_2,
            quantizer_x=self.quantizer_scaled_x_2,
            quantizer_s=self.quantizer_scaled_s_2,
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add)

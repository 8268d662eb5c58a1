"""ffq_float_models quantized by hand, in the exact shape of ffq's output (the helper
`residual` quantized as in the autoquant tutorial)."""

import fastforward
import torch

from ffq_float_models import ConvBlock, MyLinear, TinyNet


class QuantizedMyLinear(fastforward.nn.QuantizedModule, MyLinear):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        input = self.quantizer_input(input)
        self_bias = self.quantizer_self_bias(self.bias)
        self_weight = self.quantizer_self_weight(self.weight)
        return fastforward.nn.functional.linear(
            input, self_weight, self_bias, output_quantizer=self.quantizer_linear
        )


class QuantizedConvBlock(fastforward.nn.QuantizedModule, ConvBlock):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_conv2d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_conv_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_conv_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_residual_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.quantizer_x(x)
        self_conv_bias = self.quantizer_self_conv_bias(self.conv.bias)
        self_conv_weight = self.quantizer_self_conv_weight(self.conv.weight)
        y = fastforward.nn.functional.conv2d(
            x, self_conv_weight, self_conv_bias, padding=1, output_quantizer=self.quantizer_conv2d
        )
        y = fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)
        return quantized_residual(x, y, quantizer_add=self.quantizer_residual_add_1)


class QuantizedTinyNet(fastforward.nn.QuantizedModule, TinyNet):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_max_pool2d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_interpolate: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_negative: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_avg_pool2d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gelu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_layer_norm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_softmax: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_scale: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.quantizer_x_2(x)
        n = x.shape[0]
        n = self.quantizer_n(n)
        for block in self.blocks:
            x = block(x)
            x = self.quantizer_x_1(x)
        x = fastforward.nn.functional.max_pool2d(x, 2, output_quantizer=self.quantizer_max_pool2d)
        x = fastforward.nn.functional.interpolate(
            x,
            scale_factor=2.0,
            mode="bilinear",
            align_corners=False,
            output_quantizer=self.quantizer_interpolate,
        )
        _tmp_1 = fastforward.nn.functional.negative(x, output_quantizer=self.quantizer_negative)
        x = fastforward.nn.functional.cat([x, _tmp_1], dim=1, output_quantizer=self.quantizer_cat)
        x = fastforward.nn.functional.avg_pool2d(
            x, 4, 4, output_quantizer=self.quantizer_avg_pool2d
        )
        _tmp_2 = x.reshape(n, -1)
        h = self.head(_tmp_2)
        h = self.quantizer_h(h)
        _tmp_3 = fastforward.nn.functional.gelu(h, output_quantizer=self.quantizer_gelu)
        self_scale = self.quantizer_self_scale(self.scale)
        h = fastforward.nn.functional.mul(_tmp_3, self_scale, output_quantizer=self.quantizer_mul)
        _tmp_4 = fastforward.nn.functional.pow(h, 2, output_quantizer=self.quantizer_pow)
        _tmp_5 = h.abs()
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        _tmp_6 = fastforward.nn.functional.add(1, _tmp_5, output_quantizer=self.quantizer_add_1)
        h = fastforward.nn.functional.div(_tmp_4, (_tmp_6), output_quantizer=self.quantizer_div)
        h = fastforward.nn.functional.layer_norm(
            h, (5,), output_quantizer=self.quantizer_layer_norm
        )
        k = fastforward.nn.functional.sub(n, 1, output_quantizer=self.quantizer_sub)
        _tmp_7 = fastforward.nn.functional.softmax(
            h, dim=-1, output_quantizer=self.quantizer_softmax
        )
        return fastforward.nn.functional.add(_tmp_7, k, output_quantizer=self.quantizer_add_2)


def quantized_residual(x, y, *, quantizer_add: fastforward.nn.Quantizer):
    return fastforward.nn.functional.add(x, y, output_quantizer=quantizer_add)

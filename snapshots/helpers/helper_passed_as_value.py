import functools

import fastforward
import torch

from helpers.helper_passed_as_value import Net, apply, plain, squash


def quantized_self_ref_op(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    if torch.overrides.has_torch_function_unary(x):
        return torch.overrides.handle_torch_function(
            functools.partial(
                quantized_self_ref_op, quantizer_mul=quantizer_mul, quantizer_x=quantizer_x
            ),
            (x,),
            x,
        )
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)


def quantized_squash(
    x,
    *,
    quantizer_sigmoid: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = fastforward.nn.functional.sigmoid(x, output_quantizer=quantizer_sigmoid)
    return fastforward.nn.functional.mul(_tmp_1, x, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_c: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_ref_op_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_ref_op_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_sigmoid_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_sigmoid_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        a = apply(
            functools.partial(
                quantized_squash,
                quantizer_sigmoid=self.quantizer_squash_sigmoid_1,
                quantizer_mul=self.quantizer_squash_mul_1,
                quantizer_x=self.quantizer_squash_x_1,
            ),
            x,
            post=plain,
        )
        a = self.quantizer_a(a)
        b = apply(
            plain,
            x,
            post=functools.partial(
                quantized_squash,
                quantizer_sigmoid=self.quantizer_squash_sigmoid_2,
                quantizer_mul=self.quantizer_squash_mul_2,
                quantizer_x=self.quantizer_squash_x_2,
            ),
        )
        b = self.quantizer_b(b)
        c = quantized_self_ref_op(
            x,
            quantizer_mul=self.quantizer_self_ref_op_mul,
            quantizer_x=self.quantizer_self_ref_op_x,
        )
        c = self.quantizer_c(c)
        name = squash.__name__
        _tmp_2 = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add_1)
        _tmp_3 = fastforward.nn.functional.add(_tmp_2, c, output_quantizer=self.quantizer_add_2)
        _tmp_4 = len(name)
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add_3)

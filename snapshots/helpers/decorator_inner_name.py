import fastforward

from helpers.decorator_inner_name import Net, keeps_name, plain, renames


@plain
def quantized_square(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, x, output_quantizer=quantizer_mul)


@keeps_name
def quantized_gate(
    x,
    *,
    quantizer_sigmoid: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = fastforward.nn.functional.sigmoid(x, output_quantizer=quantizer_sigmoid)
    return fastforward.nn.functional.mul(x, _tmp_1, output_quantizer=quantizer_mul)


@renames
@keeps_name
def quantized_shift(
    x, *, quantizer_add: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.add(x, 1, output_quantizer=quantizer_add)


@keeps_name
@renames
def quantized_scale(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, 3, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_7: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_wrapper_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_wrapper_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_wrapper_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_wrapper_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_wrapper_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outer_wrapper_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = quantized_square(
            x, quantizer_mul=self.quantizer_wrapper_mul, quantizer_x=self.quantizer_wrapper_x
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = quantized_gate(
            x,
            quantizer_sigmoid=self.quantizer_gate_sigmoid,
            quantizer_mul=self.quantizer_gate_mul,
            quantizer_x=self.quantizer_gate_x,
        )
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        _tmp_4 = fastforward.nn.functional.add(
            _tmp_2, _tmp_3, output_quantizer=self.quantizer_add_1
        )
        _tmp_5 = quantized_shift(
            x,
            quantizer_add=self.quantizer_outer_wrapper_add,
            quantizer_x=self.quantizer_outer_wrapper_x_1,
        )
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        _tmp_6 = fastforward.nn.functional.add(
            _tmp_4, _tmp_5, output_quantizer=self.quantizer_add_2
        )
        _tmp_7 = quantized_scale(
            x,
            quantizer_mul=self.quantizer_outer_wrapper_mul,
            quantizer_x=self.quantizer_outer_wrapper_x_2,
        )
        _tmp_7 = self.quantizer__tmp_7(_tmp_7)
        return fastforward.nn.functional.add(_tmp_6, _tmp_7, output_quantizer=self.quantizer_add_3)

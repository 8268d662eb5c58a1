import fastforward

from helpers.isolated_call_site_order import Net


def quantized_chain(
    x,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer__tmp_1: fastforward.nn.Quantizer,
    quantizer_twice_mul_1: fastforward.nn.Quantizer,
    quantizer_twice_x_1: fastforward.nn.Quantizer,
    quantizer_twice_mul_2: fastforward.nn.Quantizer,
    quantizer_twice_x_2: fastforward.nn.Quantizer,
):
    a = quantized_twice(x, quantizer_mul=quantizer_twice_mul_1, quantizer_x=quantizer_twice_x_1)
    _tmp_1 = quantized_twice(
        a, quantizer_mul=quantizer_twice_mul_2, quantizer_x=quantizer_twice_x_2
    )
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    return fastforward.nn.functional.add(_tmp_1, 1, output_quantizer=quantizer_add)


def quantized_shifted(
    x, *, quantizer_sub: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.sub(x, 1, output_quantizer=quantizer_sub)


def quantized_twice(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, x, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_chain_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_chain__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_chain_twice_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_chain_twice_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_chain_twice_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_chain_twice_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shifted_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shifted_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_twice_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_twice_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        h = quantized_chain(
            x,
            quantizer_add=self.quantizer_chain_add,
            quantizer__tmp_1=self.quantizer_chain__tmp_1,
            quantizer_twice_mul_1=self.quantizer_chain_twice_mul_1,
            quantizer_twice_x_1=self.quantizer_chain_twice_x_1,
            quantizer_twice_mul_2=self.quantizer_chain_twice_mul_2,
            quantizer_twice_x_2=self.quantizer_chain_twice_x_2,
        )
        _tmp_2 = quantized_shifted(
            h, quantizer_sub=self.quantizer_shifted_sub, quantizer_x=self.quantizer_shifted_x
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = quantized_twice(
            h, quantizer_mul=self.quantizer_twice_mul, quantizer_x=self.quantizer_twice_x
        )
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        return fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)

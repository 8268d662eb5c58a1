import fastforward

from helpers.call_site_alias_name import Net


def quantized_squash(
    x,
    *,
    quantizer_sigmoid: fastforward.nn.Quantizer,
    quantizer_sub: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = fastforward.nn.functional.sigmoid(x, output_quantizer=quantizer_sigmoid)
    return fastforward.nn.functional.sub(_tmp_1, 0.5, output_quantizer=quantizer_sub)


def quantized_shift(
    x, *, quantizer_add: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.add(x, 1, output_quantizer=quantizer_add)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer__squash_impl_sigmoid: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer__squash_impl_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__squash_impl_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = quantized_squash(
            x,
            quantizer_sigmoid=self.quantizer__squash_impl_sigmoid,
            quantizer_sub=self.quantizer__squash_impl_sub,
            quantizer_x=self.quantizer__squash_impl_x,
        )
        return quantized_shift(
            _tmp_2, quantizer_add=self.quantizer_shift_add, quantizer_x=self.quantizer_shift_x
        )

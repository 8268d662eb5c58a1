import fastforward

from models.guarded_import import HAS_FUSED, Net

try:
    from models.guarded_import import fused_norm
except ImportError:
    pass


def quantized_norm(
    x,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_div: fastforward.nn.Quantizer,
    quantizer__tmp_2: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    if HAS_FUSED:
        return fused_norm(x)
    _tmp_1 = x.abs()
    _tmp_2 = _tmp_1.sum()
    _tmp_2 = quantizer__tmp_2(_tmp_2)
    _tmp_3 = fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=quantizer_add)
    return fastforward.nn.functional.div(x, _tmp_3, output_quantizer=quantizer_div)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_norm_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_norm_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_norm__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_norm_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_4 = quantized_norm(
            x,
            quantizer_add=self.quantizer_norm_add,
            quantizer_div=self.quantizer_norm_div,
            quantizer__tmp_2=self.quantizer_norm__tmp_2,
            quantizer_x=self.quantizer_norm_x,
        )
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.mul(_tmp_4, 2, output_quantizer=self.quantizer_mul)

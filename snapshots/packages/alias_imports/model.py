import fastforward

from alias_imports.model import Aliased


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


class QuantizedAliased(fastforward.nn.QuantizedModule, Aliased):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_sigmoid_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_sub_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_sigmoid_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_sub_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_squash_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = quantized_squash(
            x,
            quantizer_sigmoid=self.quantizer_squash_sigmoid_1,
            quantizer_sub=self.quantizer_squash_sub_1,
            quantizer_x=self.quantizer_squash_x_1,
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = quantized_squash(
            x,
            quantizer_sigmoid=self.quantizer_squash_sigmoid_2,
            quantizer_sub=self.quantizer_squash_sub_2,
            quantizer_x=self.quantizer_squash_x_2,
        )
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        return fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)

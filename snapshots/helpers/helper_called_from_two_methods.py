import fastforward

from helpers.helper_called_from_two_methods import Mixer


def quantized_mix(
    a,
    b,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_a: fastforward.nn.Quantizer,
    quantizer_b: fastforward.nn.Quantizer,
):
    a = quantizer_a(a)
    b = quantizer_b(b)
    return fastforward.nn.functional.mul(a, b, output_quantizer=quantizer_mul)


class QuantizedMixer(fastforward.nn.QuantizedModule, Mixer):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mix_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mix_a_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mix_b_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mix_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mix_a_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mix_b_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        _tmp_1 = quantized_mix(
            x,
            y,
            quantizer_mul=self.quantizer_mix_mul_1,
            quantizer_a=self.quantizer_mix_a_1,
            quantizer_b=self.quantizer_mix_b_1,
        )
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = self.other(x, y)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add)

    def other(self, x, y):
        return quantized_mix(
            y,
            x,
            quantizer_mul=self.quantizer_mix_mul_2,
            quantizer_a=self.quantizer_mix_a_2,
            quantizer_b=self.quantizer_mix_b_2,
        )

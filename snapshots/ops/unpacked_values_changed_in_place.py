import fastforward

from ops.unpacked_values_changed_in_place import MaskedV


class QuantizedMaskedV(fastforward.nn.QuantizedModule, MaskedV):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_not: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mask_None_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_ks: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, mask):
        _tmp_1 = self.k(x)
        _tmp_2 = self.v(x)
        ks, vs = _tmp_1, _tmp_2
        ks, vs = map(lambda t: t.reshape(2, 5, 2, 4), (ks, vs))
        ks = self.quantizer_ks(ks)
        vs = fastforward.nn.functional.dequantized(vs)
        _tmp_3 = fastforward.nn.functional.bitwise_not(
            self.quantizer_mask_None_None(mask[:, :, None, None]),
            output_quantizer=self.quantizer_bitwise_not,
        )
        vs.masked_fill_(_tmp_3, 0.0)
        return fastforward.nn.functional.mul(ks, vs, output_quantizer=self.quantizer_mul)

import fastforward
import torch

from ops.in_place_change_before_binding import Merge


class QuantizedMerge(fastforward.nn.QuantizedModule, Merge):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_exp: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_outs_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        outs = [x, y]
        outs[0] = fastforward.nn.functional.mul(
            self.quantizer_outs_0(outs[0]), 2, output_quantizer=self.quantizer_mul_1
        )
        joined = fastforward.nn.functional.cat(outs, dim=1, output_quantizer=self.quantizer_cat)
        buf = torch.zeros_like(x)
        buf.add_(x)
        buf = fastforward.nn.functional.mul(buf, 3, output_quantizer=self.quantizer_mul_2)
        tab = fastforward.nn.functional.exp(x, output_quantizer=self.quantizer_exp)
        tab = tab * 2
        tab = fastforward.nn.functional.dequantized(tab)
        tab[0] = 0
        _tmp_1 = fastforward.nn.functional.relu(joined, output_quantizer=self.quantizer_relu)
        _tmp_2 = buf.sum()
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.add(
            _tmp_1, _tmp_2, output_quantizer=self.quantizer_add_1
        )
        _tmp_4 = tab.sum()
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add_2)

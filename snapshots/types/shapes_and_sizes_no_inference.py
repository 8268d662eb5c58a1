import fastforward
import torch

from types.shapes_and_sizes_no_inference import Shapes


class QuantizedShapes(fastforward.nn.QuantizedModule, Shapes):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_floor_divide: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_size_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_c: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_last: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_flat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_t_ndim: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, t: torch.Tensor):
        b, c, w = t.shape
        b = self.quantizer_b(b)
        c = self.quantizer_c(c)
        w = self.quantizer_w(w)
        _tmp_1 = fastforward.nn.functional.mul(c, w, output_quantizer=self.quantizer_mul_1)
        area = fastforward.nn.functional.add(_tmp_1, b, output_quantizer=self.quantizer_add_1)
        size = t.size()
        last = t.size(-1)
        last = self.quantizer_last(last)
        half = fastforward.nn.functional.floor_divide(
            last, 2, output_quantizer=self.quantizer_floor_divide
        )
        _tmp_2 = t.dim()
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        dims = fastforward.nn.functional.sub(_tmp_2, 1, output_quantizer=self.quantizer_sub)
        _tmp_3 = t.numel()
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        count = fastforward.nn.functional.mul(_tmp_3, 2, output_quantizer=self.quantizer_mul_2)
        t_ndim = self.quantizer_t_ndim(t.ndim)
        nd = fastforward.nn.functional.add(
            t_ndim, self.quantizer_size_0(size[0]), output_quantizer=self.quantizer_add_2
        )
        _tmp_4 = fastforward.nn.functional.mul(c, w, output_quantizer=self.quantizer_mul_3)
        flat = t.reshape(b, _tmp_4)
        flat = self.quantizer_flat(flat)
        _tmp_5 = fastforward.nn.functional.mul(flat, area, output_quantizer=self.quantizer_mul_4)
        _tmp_6 = fastforward.nn.functional.add(_tmp_5, half, output_quantizer=self.quantizer_add_3)
        _tmp_7 = fastforward.nn.functional.add(_tmp_6, dims, output_quantizer=self.quantizer_add_4)
        _tmp_8 = fastforward.nn.functional.add(_tmp_7, count, output_quantizer=self.quantizer_add_5)
        return fastforward.nn.functional.add(_tmp_8, nd, output_quantizer=self.quantizer_add_6)

import fastforward
import torch

from types.shapes_and_sizes import Shapes


class QuantizedShapes(fastforward.nn.QuantizedModule, Shapes):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_area: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_half: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_dims: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_count: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_nd: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_flat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, t: torch.Tensor):
        b, c, w = t.shape
        area = c * w + b
        area = self.quantizer_area(area)
        size = t.size()
        last = t.size(-1)
        half = last // 2
        half = self.quantizer_half(half)
        _tmp_1 = t.dim()
        dims = _tmp_1 - 1
        dims = self.quantizer_dims(dims)
        _tmp_2 = t.numel()
        count = _tmp_2 * 2
        count = self.quantizer_count(count)
        nd = t.ndim + size[0]
        nd = self.quantizer_nd(nd)
        flat = t.reshape(b, c * w)
        flat = self.quantizer_flat(flat)
        _tmp_3 = fastforward.nn.functional.mul(flat, area, output_quantizer=self.quantizer_mul)
        _tmp_4 = fastforward.nn.functional.add(_tmp_3, half, output_quantizer=self.quantizer_add_1)
        _tmp_5 = fastforward.nn.functional.add(_tmp_4, dims, output_quantizer=self.quantizer_add_2)
        _tmp_6 = fastforward.nn.functional.add(_tmp_5, count, output_quantizer=self.quantizer_add_3)
        return fastforward.nn.functional.add(_tmp_6, nd, output_quantizer=self.quantizer_add_4)

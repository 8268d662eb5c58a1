from typing import List, Optional, Sequence, Tuple

import fastforward
import torch

from types.annotated_params import Annotated


class QuantizedAnnotated(fastforward.nn.QuantizedModule, Annotated):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_m_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_g: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_m_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(
        self,
        x: torch.Tensor,
        n: int,
        f: float,
        ys: List[int],
        shape: Tuple[int, ...],
        bias: Optional[int],
        extra: Sequence[torch.Tensor],
    ):
        x = self.quantizer_x(x)
        m = n * 2 + 1
        m = self.quantizer_m_1(m)
        g = f / 3
        g = self.quantizer_g(g)
        ys = ys + ys
        k = shape[0] * shape[-1]
        k = self.quantizer_k(k)
        if bias is not None:
            m = m + bias
            m = self.quantizer_m_2(m)
        cat = fastforward.nn.functional.cat([x, extra[0]], output_quantizer=self.quantizer_cat)
        _tmp_1 = fastforward.nn.functional.mul(x, m, output_quantizer=self.quantizer_mul_1)
        _tmp_2 = fastforward.nn.functional.add(_tmp_1, k, output_quantizer=self.quantizer_add)
        _tmp_3 = fastforward.nn.functional.mul(cat, g, output_quantizer=self.quantizer_mul_2)
        return _tmp_2, _tmp_3

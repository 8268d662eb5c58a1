from typing import List, Optional, Sequence, Tuple

import fastforward
import torch

from types.annotated_params_no_inference import Annotated


class QuantizedAnnotated(fastforward.nn.QuantizedModule, Annotated):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shape_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shape_minus_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_f: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_ys: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

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
        n = self.quantizer_n(n)
        f = self.quantizer_f(f)
        ys = self.quantizer_ys(ys)
        bias = self.quantizer_bias(bias)
        _tmp_1 = fastforward.nn.functional.mul(n, 2, output_quantizer=self.quantizer_mul_1)
        m = fastforward.nn.functional.add(_tmp_1, 1, output_quantizer=self.quantizer_add_1)
        g = fastforward.nn.functional.div(f, 3, output_quantizer=self.quantizer_div)
        ys = fastforward.nn.functional.add(ys, ys, output_quantizer=self.quantizer_add_2)
        k = fastforward.nn.functional.mul(
            self.quantizer_shape_0(shape[0]),
            self.quantizer_shape_minus_1(shape[-1]),
            output_quantizer=self.quantizer_mul_2,
        )
        if bias is not None:
            m = fastforward.nn.functional.add(m, bias, output_quantizer=self.quantizer_add_3)
        cat = fastforward.nn.functional.cat([x, extra[0]], output_quantizer=self.quantizer_cat)
        _tmp_2 = fastforward.nn.functional.mul(x, m, output_quantizer=self.quantizer_mul_3)
        _tmp_3 = fastforward.nn.functional.add(_tmp_2, k, output_quantizer=self.quantizer_add_4)
        _tmp_4 = fastforward.nn.functional.mul(cat, g, output_quantizer=self.quantizer_mul_4)
        return _tmp_3, _tmp_4

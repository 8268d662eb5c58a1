from __future__ import annotations

import fastforward

from types.union_and_string_annotations import Unions


class QuantizedUnions(fastforward.nn.QuantizedModule, Unions):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_width: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x: "Tensor", n: int | None, mode: "str", y: "torch.Tensor | None" = None):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        if n is None:
            n = 1
        width = n * 2
        width = self.quantizer_width(width)
        label = mode + "_" + mode
        z = fastforward.nn.functional.mul(x, width, output_quantizer=self.quantizer_mul)
        if y is not None:
            z = fastforward.nn.functional.add(z, y, output_quantizer=self.quantizer_add)
        return z, label

from __future__ import annotations

import fastforward

from types.union_and_string_annotations_no_inference import Unions


class QuantizedUnions(fastforward.nn.QuantizedModule, Unions):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mode: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x: "Tensor", n: int | None, mode: "str", y: "torch.Tensor | None" = None):
        x = self.quantizer_x(x)
        n = self.quantizer_n_2(n)
        mode = self.quantizer_mode(mode)
        y = self.quantizer_y(y)
        if n is None:
            n = 1
            n = self.quantizer_n_1(n)
        width = fastforward.nn.functional.mul(n, 2, output_quantizer=self.quantizer_mul_1)
        _tmp_1 = fastforward.nn.functional.add(mode, "_", output_quantizer=self.quantizer_add_1)
        label = fastforward.nn.functional.add(_tmp_1, mode, output_quantizer=self.quantizer_add_2)
        z = fastforward.nn.functional.mul(x, width, output_quantizer=self.quantizer_mul_2)
        if y is not None:
            z = fastforward.nn.functional.add(z, y, output_quantizer=self.quantizer_add_3)
        return z, label

import itertools
import math

import fastforward

from models.stdlib_calls import Scale


class QuantizedScale(fastforward.nn.QuantizedModule, Scale):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_parts_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        s = math.sqrt(self.n)
        s = self.quantizer_s(s)
        _tmp_1 = itertools.chain([x], [x])
        parts = list(_tmp_1)
        _tmp_2 = fastforward.nn.functional.mul(
            x, math.sqrt(self.n), output_quantizer=self.quantizer_mul
        )
        _tmp_3 = fastforward.nn.functional.div(
            self.quantizer_parts_1(parts[1]), s, output_quantizer=self.quantizer_div
        )
        return fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)

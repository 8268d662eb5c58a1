from typing import Callable

import fastforward

from models.attention_registry import ALL_ATTENTION, Attention, eager_attention


class QuantizedAttention(fastforward.nn.QuantizedModule, Attention):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, q, k, v):
        attention_interface: Callable = eager_attention
        if self.impl != "eager":
            attention_interface = ALL_ATTENTION[self.impl]
        _tmp_1 = attention_interface(q, k, v)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)

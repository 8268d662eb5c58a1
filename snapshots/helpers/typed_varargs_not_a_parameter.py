from typing import Any

import fastforward

from helpers.typed_varargs_not_a_parameter import Sum


def quantized_total(
    *tensors: Any,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_out: fastforward.nn.Quantizer,
    quantizer_t: fastforward.nn.Quantizer,
    **options: Any,
):
    out = tensors[0]
    out = quantizer_out(out)
    for t in tensors[1:]:
        t = quantizer_t(t)
        out = fastforward.nn.functional.add(out, t, output_quantizer=quantizer_add)
    return out


class QuantizedSum(fastforward.nn.QuantizedModule, Sum):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_total_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total_out: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total_t: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        return quantized_total(
            x,
            y,
            quantizer_add=self.quantizer_total_add,
            quantizer_out=self.quantizer_total_out,
            quantizer_t=self.quantizer_total_t,
        )

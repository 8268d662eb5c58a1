import fastforward
import torch

from types.helper_return_annotations import Helpers, width_of


def quantized_double(
    x: torch.Tensor,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
) -> torch.Tensor:
    x = quantizer_x(x)
    return fastforward.nn.functional.add(x, x, output_quantizer=quantizer_add)


class QuantizedHelpers(fastforward.nn.QuantizedModule, Helpers):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_double_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_double_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = width_of(x)
        w = _tmp_1 * 2
        w = self.quantizer_w(w)
        _tmp_2 = self.scale()
        s = _tmp_2 * 3.0
        s = self.quantizer_s(s)
        d = quantized_double(
            x, quantizer_add=self.quantizer_double_add, quantizer_x=self.quantizer_double_x
        )
        d = self.quantizer_d(d)
        _tmp_3 = fastforward.nn.functional.mul(d, w, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.add(_tmp_3, s, output_quantizer=self.quantizer_add)

    def scale(self) -> float:
        return 0.5

from __future__ import annotations

import fastforward
import torch

from models.future_annotations_from_helpers import Scaler

try:
    from models.future_annotations_from_helpers import Sequence
except ImportError:
    pass


def quantized_scaled(
    x: torch.Tensor,
    dims: Sequence[int],
    *,
    quantizer_relu: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
) -> torch.Tensor:
    x = quantizer_x(x)
    _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=quantizer_relu)
    return fastforward.nn.functional.mul(_tmp_1, len(dims), output_quantizer=quantizer_mul)


class QuantizedScaler(fastforward.nn.QuantizedModule, Scaler):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x: torch.Tensor, dims: Sequence[int] = (1, 2)) -> torch.Tensor:
        _tmp_2 = quantized_scaled(
            x,
            dims,
            quantizer_relu=self.quantizer_scaled_relu,
            quantizer_mul=self.quantizer_scaled_mul,
            quantizer_x=self.quantizer_scaled_x,
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add)

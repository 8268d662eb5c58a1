"""Random quantized tensors, for tests and examples."""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch

from fastforward.quantization.affine import quantize_per_granularity
from fastforward.quantization.granularity import Granularity, PerTensor
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["random_quantized"]

Number = Union[torch.Tensor, float]


def random_quantized(
    shape: Sequence[int],
    scale: Number = 0.1,
    offset: Optional[Number] = None,
    num_bits: int = 8,
    *,
    granularity: Optional[Granularity] = None,
    dtype: torch.dtype = torch.float32,
    storage_dtype: Optional[torch.dtype] = None,
    device: Union[torch.device, str, None] = None,
    generator: Optional[torch.Generator] = None,
) -> QuantizedTensor:
    """Standard normal samples of ``shape`` (``dtype``) quantized with ``scale`` / ``offset``
    on ``num_bits`` bits per ``granularity`` (default per tensor). A number for ``scale`` or
    ``offset`` is used for every tile; a tensor needs one entry per tile."""
    granularity = PerTensor() if granularity is None else granularity
    data = torch.randn(tuple(shape), dtype=dtype, device=device, generator=generator)
    tiles = granularity.parameter_dimensionality(data.shape)

    def per_tile(value: Optional[Number]) -> Optional[torch.Tensor]:
        if value is None:
            return None
        if isinstance(value, torch.Tensor):
            return value.to(device=data.device)
        return torch.full((tiles,), float(value), dtype=dtype, device=data.device)

    return quantize_per_granularity(data, per_tile(scale), per_tile(offset), granularity, num_bits, storage_dtype)

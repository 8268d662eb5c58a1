"""Dynamic affine quantization helpers: scale and offset derived from each input."""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from fastforward.quantization.affine._affine import AffineQuantizationFunction, DynamicAffineQuantParams
from fastforward.quantization.function import QuantizationContext
from fastforward.quantization.granularity import Granularity, PerBlock, PerChannel, PerTensor, PerTile

__all__ = [
    "quantization_context",
    "quantize_by_tile",
    "quantize_per_block",
    "quantize_per_channel",
    "quantize_per_granularity",
    "quantize_per_tensor",
]


def quantization_context(
    granularity: Granularity,
    num_bits: float,
    symmetric: bool = False,
    allow_one_sided: bool = True,
    quantized_dtype: Optional[torch.dtype] = None,
    dequantize_dtype: Optional[torch.dtype] = None,
) -> QuantizationContext:
    """A dynamic affine quantization context."""
    params = DynamicAffineQuantParams(
        num_bits=num_bits, granularity=granularity, symmetric=symmetric,
        allow_one_sided=allow_one_sided, quantized_dtype=quantized_dtype,
        dequantize_dtype=dequantize_dtype,
    )
    return QuantizationContext(AffineQuantizationFunction, params)


def quantize_per_granularity(input: torch.Tensor, granularity: Granularity, num_bits: float = 8,
                             symmetric: bool = False, allow_one_sided: bool = True,
                             output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Quantize ``input`` with per-tile parameters computed from its own min/max."""
    context = quantization_context(granularity, num_bits, symmetric, allow_one_sided, output_dtype)
    return AffineQuantizationFunction.quantize(input, context.quantization_params)


def quantize_per_tensor(input: torch.Tensor, num_bits: float = 8, symmetric: bool = False,
                        allow_one_sided: bool = True, output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Dynamic per-tensor quantization."""
    return quantize_per_granularity(input, PerTensor(), num_bits, symmetric, allow_one_sided, output_dtype)


def quantize_per_channel(input: torch.Tensor, axis: int, num_bits: float = 8, symmetric: bool = False,
                         allow_one_sided: bool = True, output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Dynamic per-channel quantization along ``axis``."""
    return quantize_per_granularity(input, PerChannel(axis), num_bits, symmetric, allow_one_sided, output_dtype)


def quantize_per_block(input: torch.Tensor, channel_axis: int, block_axis: int, block_size: int,
                       num_bits: float = 8, symmetric: bool = False, allow_one_sided: bool = True,
                       output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Dynamic per-block quantization."""
    granularity = PerBlock(block_axis, block_size, per_channel_dims=channel_axis)
    return quantize_per_granularity(input, granularity, num_bits, symmetric, allow_one_sided, output_dtype)


def quantize_by_tile(input: torch.Tensor, tile_size: Sequence[int], num_bits: float = 8,
                     symmetric: bool = False, allow_one_sided: bool = True,
                     output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Dynamic quantization by tiles of ``tile_size``."""
    return quantize_per_granularity(input, PerTile(tile_size), num_bits, symmetric, allow_one_sided, output_dtype)

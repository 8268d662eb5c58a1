"""Static affine quantization helpers: quantize with given scale and offset."""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch

from fastforward.quantization.affine._affine import AffineQuantizationFunction, StaticAffineQuantParams
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

TensorLike = Union[torch.Tensor, float]


def quantization_context(
    scale: TensorLike,
    offset: Optional[TensorLike],
    granularity: Optional[Granularity] = None,
    num_bits: float = 8,
    output_dtype: Optional[torch.dtype] = None,
    dequantize_dtype: Optional[torch.dtype] = None,
) -> QuantizationContext:
    """A static affine quantization context."""
    params = StaticAffineQuantParams(
        scale=scale, offset=offset, num_bits=num_bits, granularity=granularity or PerTensor(),  # type: ignore[arg-type]
        quantized_dtype=output_dtype, dequantize_dtype=dequantize_dtype,
    )
    return QuantizationContext(AffineQuantizationFunction, params)


def quantize_per_granularity(
    input: torch.Tensor,
    scale: TensorLike,
    offset: Optional[TensorLike],
    granularity: Granularity,
    num_bits: float = 8,
    output_dtype: Optional[torch.dtype] = None,
) -> torch.Tensor:
    """Quantize ``input`` with one scale/offset per tile of ``granularity``."""
    context = quantization_context(scale, offset, granularity, num_bits, output_dtype)
    return AffineQuantizationFunction.quantize(input, context.quantization_params)


def quantize_per_tensor(input: torch.Tensor, scale: TensorLike, offset: Optional[TensorLike] = None,
                        num_bits: float = 8, output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Quantize ``input`` with one scale and offset."""
    return quantize_per_granularity(input, scale, offset, PerTensor(), num_bits, output_dtype)


def quantize_per_channel(input: torch.Tensor, scale: TensorLike, offset: Optional[TensorLike] = None,
                         axis: int = -1, num_bits: float = 8,
                         output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Quantize ``input`` with one scale/offset per index along ``axis`` (default -1)."""
    return quantize_per_granularity(input, scale, offset, PerChannel(axis), num_bits, output_dtype)


def quantize_per_block(input: torch.Tensor, scale: TensorLike, offset: Optional[TensorLike],
                       channel_axis: int, block_axis: int, block_size: int, num_bits: float = 8,
                       output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Quantize ``input`` per channel along ``channel_axis`` and in blocks of
    ``block_size`` along ``block_axis``."""
    granularity = PerBlock(block_axis, block_size, per_channel_dims=channel_axis)
    return quantize_per_granularity(input, scale, offset, granularity, num_bits, output_dtype)


def quantize_by_tile(input: torch.Tensor, scale: TensorLike, offset: Optional[TensorLike],
                     tile_size: Sequence[int], num_bits: float = 8,
                     output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """Quantize ``input`` with one scale/offset per tile of ``tile_size``."""
    return quantize_per_granularity(input, scale, offset, PerTile(tile_size), num_bits, output_dtype)

"""Type aliases used across fastforward's signatures."""

from __future__ import annotations

from typing import Sequence, Tuple, Union

import torch

__all__ = ["IntOr2Tuple", "SizeT", "TensorLike", "TileSize"]

# A tensor or a Python number turned into one (scales, offsets, ranges).
TensorLike = Union[torch.Tensor, float, int]
# A shape as torch or as a plain sequence of ints.
SizeT = Union[torch.Size, Sequence[int]]
# Tile size of a granularity: a shape, or "data_shape" for the whole tensor.
TileSize = Union[torch.Size, str]
# Kernel sizes, strides and paddings as torch's convolution and pooling take them.
IntOr2Tuple = Union[int, Tuple[int, int]]

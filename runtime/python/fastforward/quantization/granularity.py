"""Granularities: how a tensor is cut into tiles that each get one scale and offset.

Every granularity maps a data shape to a tile shape; the tiles cover the tensor in
row-major order over the tile grid, and parameter tensors hold one entry per tile in that
order (see ``fastforward.quantization.tiled_tensor``).
"""

from __future__ import annotations

import abc
import logging
from typing import Any, Sequence, Tuple, Union

import torch

from fastforward.common import safe_for_torch_load
from fastforward.serialization import yamlable

__all__ = [
    "Granularity",
    "PerBlock",
    "PerChannel",
    "PerTensor",
    "PerTile",
    "granularity_from_sizes",
    "is_per_block",
    "is_per_channel",
    "is_per_tensor",
]

_log = logging.getLogger(__name__)

TileSize = Union[torch.Size, str]


def _as_tuple(value: Union[int, Sequence[int]]) -> Tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in value)


def _normalize_dim(dim: int, ndim: int, who: str) -> int:
    if not -ndim <= dim < ndim or ndim == 0:
        raise ValueError(
            "%s: dimension %d does not exist in a tensor with %d dimension(s)" % (who, dim, ndim)
        )
    return dim % ndim


@yamlable
class Granularity(abc.ABC):
    """How data are tiled for quantization: one parameter set per tile."""

    __match_args__: Tuple[str, ...] = ()

    @abc.abstractmethod
    def tile_size(self, data_shape: torch.Size) -> TileSize:
        """Tile shape for data of ``data_shape`` ("data_shape" means the whole tensor)."""

    def parameter_dimensionality(self, data_shape: torch.Size) -> int:
        """Number of tiles (= parameters) for data of ``data_shape``."""
        tile = self.tile_size(torch.Size(data_shape))
        if isinstance(tile, str):
            return 1
        # tiles along each dimension, multiplied: numel / tile_numel, also for an empty
        # tensor (PerChannel(1) of a (0, 5) tensor has 5 parameters, PerChannel(0) none)
        count = 1
        for d, t in zip(data_shape, tile):
            count *= int(d) // int(t) if int(t) else 1
        return count

    def repr_args(self) -> dict:
        """The constructor arguments shown by repr."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % item for item in self.repr_args().items())
        return "%s(%s)" % (type(self).__name__, args)

    def _key(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key()))


class PerTensor(Granularity):
    """One scale and offset for the whole tensor."""

    def tile_size(self, data_shape: torch.Size) -> TileSize:
        return "data_shape"


class PerChannel(Granularity):
    """One scale and offset per index along ``channel_dim`` (one or several dims)."""

    __match_args__ = ("channel_dims",)

    def __init__(self, channel_dim: Union[int, Sequence[int]] = 0) -> None:
        self.channel_dims = _as_tuple(channel_dim)

    @property
    def channel_dim(self) -> Union[int, Tuple[int, ...]]:
        """The channel dimension (an int when there is one)."""
        return self.channel_dims[0] if len(self.channel_dims) == 1 else self.channel_dims

    def tile_size(self, data_shape: torch.Size) -> TileSize:
        shape = list(data_shape)
        for dim in self.channel_dims:
            shape[_normalize_dim(dim, len(shape), repr(self))] = 1
        return torch.Size(shape)

    def repr_args(self) -> dict:
        return {"channel": self.channel_dim}


class PerBlock(Granularity):
    """Blocks of ``block_sizes`` along ``block_dims``; per channel along
    ``per_channel_dims``; every other dimension whole."""

    __match_args__ = ("block_dims", "block_sizes", "per_channel_dims", "strict_blocks")

    def __init__(
        self,
        block_dims: Union[int, Sequence[int]],
        block_sizes: Union[int, Sequence[int]],
        per_channel_dims: Union[int, Sequence[int]] = (),
        strict_blocks: bool = True,
    ) -> None:
        self.block_dims = _as_tuple(block_dims)
        self.block_sizes = _as_tuple(block_sizes)
        self.per_channel_dims = _as_tuple(per_channel_dims)
        self.strict_blocks = bool(strict_blocks)
        if len(self.block_dims) != len(self.block_sizes):
            raise ValueError(
                "PerBlock: %d block dims but %d block sizes"
                % (len(self.block_dims), len(self.block_sizes))
            )
        if any(size <= 0 for size in self.block_sizes):
            raise ValueError("PerBlock: block sizes must be positive, got %r" % (self.block_sizes,))
        if set(self.block_dims) & set(self.per_channel_dims):
            _log.warning("PerBlock: a dimension is both a block and a channel dimension")

    def tile_size(self, data_shape: torch.Size) -> TileSize:
        shape = list(data_shape)
        ndim = len(shape)
        for dim in self.per_channel_dims:
            shape[_normalize_dim(dim, ndim, repr(self))] = 1
        for dim, size in zip(self.block_dims, self.block_sizes):
            d = _normalize_dim(dim, ndim, repr(self))
            if size > data_shape[d]:
                raise ValueError(
                    "%r: block size %d is larger than dimension %d (size %d)"
                    % (self, size, dim, data_shape[d])
                )
            if self.strict_blocks and data_shape[d] % size:
                raise ValueError(
                    "%r: block size %d does not divide dimension %d (size %d)"
                    % (self, size, dim, data_shape[d])
                )
            shape[d] = size
        return torch.Size(shape)

    def repr_args(self) -> dict:
        return {
            "block_dims": self.block_dims,
            "block_sizes": self.block_sizes,
            "per_channel_dims": self.per_channel_dims,
        }


class PerTile(Granularity):
    """Tiles of a fixed ``tile_shape`` (same rank as the data)."""

    __match_args__ = ("tile_shape",)

    def __init__(self, tile_shape: Sequence[int]) -> None:
        self.tile_shape = torch.Size(_as_tuple(tile_shape))

    def tile_size(self, data_shape: torch.Size) -> TileSize:
        from fastforward.quantization.tiled_tensor import check_tile_compatibility

        check_tile_compatibility(torch.Size(data_shape), self.tile_shape)
        return self.tile_shape

    def repr_args(self) -> dict:
        return {"tile_shape": tuple(self.tile_shape)}


def is_per_tensor(granularity: Granularity) -> bool:
    """Whether ``granularity`` is PerTensor."""
    return isinstance(granularity, PerTensor)


def is_per_channel(granularity: Granularity) -> bool:
    """Whether ``granularity`` is PerChannel."""
    return isinstance(granularity, PerChannel)


def is_per_block(granularity: Granularity) -> bool:
    """Whether ``granularity`` is PerBlock."""
    return isinstance(granularity, PerBlock)


def granularity_from_sizes(data_size: Sequence[int], tile_size: TileSize) -> Granularity:
    """The simplest granularity that tiles ``data_size`` with ``tile_size``."""
    if isinstance(tile_size, str) or tuple(tile_size) == tuple(data_size):
        return PerTensor()
    tile = tuple(int(t) for t in tile_size)
    data = tuple(int(d) for d in data_size)
    ones = tuple(i for i, (t, d) in enumerate(zip(tile, data)) if t == 1 and d != 1)
    if all(t in (1, d) for t, d in zip(tile, data)):
        return PerChannel(ones)
    blocks = tuple(i for i, (t, d) in enumerate(zip(tile, data)) if t not in (1, d))
    return PerBlock(blocks, tuple(tile[i] for i in blocks), ones)


safe_for_torch_load(PerTensor, PerChannel, PerBlock, PerTile, torch.Size)

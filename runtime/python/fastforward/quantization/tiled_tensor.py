"""Tile layout: a tensor as a (num_tiles, tile_numel) matrix, tiles in row-major order."""

from __future__ import annotations

from typing import Sequence, Union

import torch

__all__ = ["check_tile_compatibility", "rows_to_tiles", "tiles_to_rows"]

TileSize = Union[torch.Size, Sequence[int], str]


def check_tile_compatibility(input_size: Sequence[int], tile_size: TileSize) -> None:
    """Raise ValueError unless ``tile_size`` has the rank of ``input_size`` and divides it."""
    if isinstance(tile_size, str):
        return
    if len(tile_size) != len(input_size):
        raise ValueError(
            "tile size %s does not have the rank of data size %s"
            % (tuple(tile_size), tuple(input_size))
        )
    for d, t in zip(input_size, tile_size):
        if int(t) <= 0 or int(d) % int(t):
            raise ValueError(
                "tile size %s does not divide data size %s" % (tuple(tile_size), tuple(input_size))
            )


def _split_shape(input_size: Sequence[int], tile_size: Sequence[int]) -> list:
    shape = []
    for d, t in zip(input_size, tile_size):
        shape += [int(d) // int(t), int(t)]
    return shape


def tiles_to_rows(data: torch.Tensor, tile_size: TileSize) -> torch.Tensor:
    """``data`` as a (num_tiles, tile_numel) matrix."""
    if data.numel() == 0:
        return data.reshape(1, 0)
    if isinstance(tile_size, str):
        return data.reshape(1, -1)
    check_tile_compatibility(data.shape, tile_size)
    n = data.dim()
    split = data.reshape(_split_shape(data.shape, tile_size))
    order = [2 * i for i in range(n)] + [2 * i + 1 for i in range(n)]
    return split.permute(order).reshape(data.numel() // _numel(tile_size), _numel(tile_size))


def rows_to_tiles(rows: torch.Tensor, data_size: Sequence[int], tile_size: TileSize) -> torch.Tensor:
    """Inverse of ``tiles_to_rows``."""
    numel = _numel(data_size)
    if rows.numel() != numel:
        raise ValueError(
            "%d elements cannot fill data size %s" % (rows.numel(), tuple(data_size))
        )
    if numel == 0 or isinstance(tile_size, str):
        return rows.reshape(tuple(data_size))
    check_tile_compatibility(data_size, tile_size)
    n = len(data_size)
    grid = [int(d) // int(t) for d, t in zip(data_size, tile_size)]
    split = rows.reshape(grid + [int(t) for t in tile_size])
    order = []
    for i in range(n):
        order += [i, n + i]
    return split.permute(order).reshape(tuple(data_size))


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n

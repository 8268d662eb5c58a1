"""Stateless fake-quantization functions (TorchQuant's functional API), with
straight-through gradients: they return float tensors on the quantization grid.

* ``affine_quantize(x, delta, zero_point, n_levels)``: ``q = clamp(round(x / delta) +
  zero_point, 0, n_levels - 1)``, returns ``(q - zero_point) * delta``;
* ``qfmt_quantize(x, delta, min_int, max_int)``: ``q = clamp(round(x / delta), min_int,
  max_int)``, returns ``q * delta`` (Q-format: ``delta = 2^-frac_bits``).

The gradient w.r.t. ``x`` is 1 inside the grid's range and 0 where the value was clipped.
"""

from __future__ import annotations

from typing import Union

import torch

from fastforward.quantization.ste import round_ste

__all__ = ["affine_quantize", "qfmt_quantize"]

Number = Union[float, int, torch.Tensor]


def affine_quantize(x: torch.Tensor, delta: Number, zero_point: Number, n_levels: int) -> torch.Tensor:
    q = torch.clamp(round_ste(x / delta) + zero_point, 0, n_levels - 1)
    return (q - zero_point) * delta


def qfmt_quantize(x: torch.Tensor, delta: Number, min_int: int, max_int: int) -> torch.Tensor:
    q = torch.clamp(round_ste(x / delta), min_int, max_int)
    return q * delta

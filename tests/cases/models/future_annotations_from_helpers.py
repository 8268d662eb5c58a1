# Annotations naming what a module imports only for type checkers (`if TYPE_CHECKING:`) are
# never evaluated under `from __future__ import annotations`: the output keeps the directive
# (also when the code comes from a helper module that has it), or importing it raises
# NameError at the first such signature (transformers' get_max_seqlen, copied into five
# models' output).
# e2e: Scaler() <- torch.randn(2, 3)
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from collections.abc import Sequence


def scaled(x: torch.Tensor, dims: Sequence[int]) -> torch.Tensor:
    return torch.relu(x) * len(dims)


class Scaler(nn.Module):
    def forward(self, x: torch.Tensor, dims: Sequence[int] = (1, 2)) -> torch.Tensor:
        return scaled(x, dims) + 1

# ffq: --no-type-inference
# e2e: Unions() <- torch.randn(2, 3), 4, "pad", torch.randn(2, 3)
from __future__ import annotations

import torch
from torch import Tensor


class Unions(torch.nn.Module):
    def forward(self, x: "Tensor", n: int | None, mode: "str", y: "torch.Tensor | None" = None):
        if n is None:
            n = 1
        width = n * 2
        label = mode + "_" + mode
        z = x * width
        if y is not None:
            z = z + y
        return z, label

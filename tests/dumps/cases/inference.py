# --dump goldens: what type inference decides and how the plan follows it
# (int arithmetic and shape reads stay in float; tensors get quantizers).
from typing import List, Optional

import torch
from torch import nn


class Mixer(nn.Module):
    def __init__(self, sizes: List[int]):
        super().__init__()
        self.sizes = sizes
        self.proj = nn.Linear(sum(sizes), 4)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None):
        n = len(self.sizes) + 1
        parts = x.split(self.sizes, dim=-1)
        y = torch.cat(list(parts), dim=-1)
        if mask is not None:
            y = y * mask
        b = x.shape[0] * n
        return self.proj(y).reshape(b, -1)

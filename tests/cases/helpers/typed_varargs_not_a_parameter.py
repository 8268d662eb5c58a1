from typing import Any

import torch


def total(*tensors: Any, **options: Any):
    out = tensors[0]
    for t in tensors[1:]:
        out = out + t
    return out


class Sum(torch.nn.Module):
    def forward(self, x, y):
        return total(x, y)

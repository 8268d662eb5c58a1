# e2e: Annotated() <- torch.randn(2, 3), 2, 0.5, [1, 2], (3, 4), None, [torch.randn(2, 3)]
from typing import List, Optional, Sequence, Tuple

import torch


class Annotated(torch.nn.Module):
    def forward(
        self,
        x: torch.Tensor,
        n: int,
        f: float,
        ys: List[int],
        shape: Tuple[int, ...],
        bias: Optional[int],
        extra: Sequence[torch.Tensor],
    ):
        m = n * 2 + 1
        g = f / 3
        ys = ys + ys
        k = shape[0] * shape[-1]
        if bias is not None:
            m = m + bias
        cat = torch.cat([x, extra[0]])
        return x * m + k, cat * g

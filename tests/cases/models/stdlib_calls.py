# Standard-library calls (math.sqrt, itertools.chain) are not tensor operations and not
# missing modules: no warning, nothing counted as left in float; math.sqrt(n) is a float.
# e2e: Scale(9) <- torch.randn(2, 4)
import math
import itertools

import torch


class Scale(torch.nn.Module):
    def __init__(self, n: int = 4):
        super().__init__()
        self.n = n

    def forward(self, x):
        s = math.sqrt(self.n)
        parts = list(itertools.chain([x], [x]))
        return x * math.sqrt(self.n) + parts[1] / s

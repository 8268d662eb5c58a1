# torch.nn.functional.group_norm is a table op: nn.GroupNorm's own forward (the float class
# ffq generates QuantizedGroupNorm from; wav2vec2's feature encoder) gets weight and bias
# quantizers. Positional and keyword forms, and the defaults (no affine parameters, eps).
# e2e: Groups(6) <- torch.randn(2, 6, 5)
import torch
import torch.nn.functional as F
from torch import nn


class Groups(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels))
        self.eps = 1e-5

    def forward(self, x):
        a = F.group_norm(x, 3, self.weight, self.bias, self.eps)
        b = F.group_norm(x, num_groups=2, weight=self.weight, eps=1e-3)
        c = F.group_norm(x, 6)
        return a, b, c

# A parenthesized expression moved into a temporary is written as the bare name:
# `x / _tmp_2`, `_tmp_3.mean()`, never `(_tmp_2)`.
# e2e: Norm() <- torch.randn(2, 4)
import torch


class Norm(torch.nn.Module):
    def forward(self, x):
        y = x / (x.abs().sum() + 1)
        return (torch.relu(y) * 2).mean() + (y.sum(0)).max()

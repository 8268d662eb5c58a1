# Temporaries are numbered per output file (§3.4), skipping a number whose `_tmp_<n>` the
# function's own source already uses as a name: the isolated `helper(x)` must not overwrite
# the local `_tmp_1` that later lines read.
# e2e: Net() <- torch.randn(3)
import torch


def helper(x):
    return x - 1


class Net(torch.nn.Module):
    def forward(self, x):
        _tmp_1 = x * 4
        return helper(x) + _tmp_1

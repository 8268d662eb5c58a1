# Calls through a module alias (_THIS = sys.modules[__name__]; _THIS.helper(x)) are followed
# like a call of helper itself.
# e2e: M() <- torch.randn(4)
import sys

import torch


def helper(x):
    return x * 2


_THIS = sys.modules[__name__]


class M(torch.nn.Module):
    def forward(self, x):
        s = torch.tensor([1.0, 2.0, 3.0, 4.0])
        y = [x * k for k in range(2)]
        return _THIS.helper(x) + s * y[0]

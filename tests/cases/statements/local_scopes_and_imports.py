# Names bound in a lambda or a nested function belong to that scope only: the
# same names used outside it are the module's and are imported.
import torch
from torch import nn

scale = 2.0
width = 4


def helper(x):
    def inner(y):
        width = 3
        return y * width

    return inner(x) + width


class Model(nn.Module):
    def forward(self, x):
        f = lambda scale: torch.relu(x) * scale
        return f(3.0) + scale + helper(x)

# A class whose __new__ returns an instance of another class (a deprecation shim: the old
# name builds the moved class, imported in __new__ or at module level): the module that
# exists at run time is of that other class, so it is discovered and gets its generated
# class too (before, only the shim had one and the model's instance ran as quantize_model's
# float surrogate).
# e2e: Net() <- torch.randn(2, 4)
# e2e: Rotary(4) <- torch.randn(3, 4)
import torch
from torch import nn

from .legacy import OldGate, Rotary


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rope = Rotary(4)
        self.gate = OldGate()

    def forward(self, x):
        return self.gate(self.rope(x)) + 1

import torch
from torch import nn

from .other import norm


class Scale(nn.Module):
    def forward(self, x):
        return torch.relu(x) / 2


class TwoScales(nn.Module):
    def __init__(self):
        super().__init__()
        self.mine = Scale()
        self.theirs = norm.Scale()

    def forward(self, x):
        return self.mine(x) + self.theirs(x)

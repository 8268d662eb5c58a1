import torch
from torch import nn

from .layers import Block, rescale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return rescale(self.block(x), 0.5)

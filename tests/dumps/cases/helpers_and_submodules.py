# --dump goldens: a root class with a submodule, a helper chain and a static method
# (torch.amax: no table op, the plan drops it), so program, types and plan have content.
import torch
import torch.nn.functional as F
from torch import nn


def scale(x, k: float):
    return torch.mul(x, k)


def activate(x):
    y = F.relu(x)
    return scale(y, 0.5)


class Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.width = width

    def forward(self, x):
        h = self.fc(x)
        return activate(h) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(8)
        self.head = nn.Linear(8, 2)

    @staticmethod
    def pool(x):
        return torch.amax(x, dim=0)

    def forward(self, x):
        z = self.block(x)
        n = self.block.width * 2
        return F.softmax(self.head(self.pool(z)), dim=-1), n

import torch
from torch import nn

__all__ = ["Block"]


class Block(nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2

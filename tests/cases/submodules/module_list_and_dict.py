import torch
from torch import nn


class Block(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class Stack(nn.Module):
    def __init__(self, n: int = 2):
        super().__init__()
        self.layers = nn.ModuleList([Block() for _ in range(n)])
        self.named = nn.ModuleDict({"first": Block()})

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.named["first"](x) + x

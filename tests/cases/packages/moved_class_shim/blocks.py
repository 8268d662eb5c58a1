import torch
from torch import nn


class Rotary(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.cat([torch.cos(x), torch.sin(x)], dim=-1) * 0.5


class Gate(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)

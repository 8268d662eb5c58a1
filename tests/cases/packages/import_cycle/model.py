import torch

from .left import left_half


class Cycle(torch.nn.Module):
    def forward(self, x):
        return left_half(x)

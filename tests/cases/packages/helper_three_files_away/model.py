import torch

from .front import front_op


class Far(torch.nn.Module):
    def forward(self, x, y):
        return front_op(x, y)

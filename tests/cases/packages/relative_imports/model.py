import torch

from .ops.act import gate
from . import ops


class Gated(torch.nn.Module):
    def forward(self, x):
        return gate(x) + torch.relu(x)

import torch
from torch import nn


# A forward shared by several modules.
def shared_forward(self: nn.Module, x):
    return torch.relu(x) * self.scale


class UsesAlias(nn.Module):
    scale = 2.0

    forward = shared_forward

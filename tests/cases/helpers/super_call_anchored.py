import torch
from torch import nn


class Base(nn.Module):
    def forward(self, x):
        return x * 2


class Child(Base):
    def forward(self, x):
        y = super().forward(x)
        return torch.relu(y)

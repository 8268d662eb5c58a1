import torch
from torch import nn


class Base(nn.Module):
    def forward(self, x):
        return torch.tanh(x) + x


class Child(Base):
    def extra(self):
        return 1

import torch
from torch import nn


class Base(nn.Module):
    def forward(self, x):
        return x * 2


class Child(Base):
    def forward(self, x):
        y = super().forward(x)
        return torch.relu(y)


class Named(Base):
    def forward(self, x):
        return Base.forward(self, x) + 1


class Quiet(Base):
    def extra_repr(self):
        return super().extra_repr()  # torch.nn.Module's own method: no note

    def forward(self, x):
        if super().extra_repr() == "":
            x = x * 3
        return torch.sigmoid(x)

import torch
from torch import nn


class Head(nn.Module):
    """Every submodule is a known module (optable/known_modules.txt): ffq generates no class
    for them and keeps their calls; the runtime has their quantized classes."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.act = nn.GELU()
        self.gate = nn.Sigmoid()
        self.norm = nn.Softmax(dim=1)

    def forward(self, x):
        y = self.act(self.up(x))
        return self.norm(y * self.gate(y)) + x.mean()

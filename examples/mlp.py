"""A small residual MLP: the model the README's demo autoquantizes."""

import torch
import torch.nn.functional as F
from torch import nn


class ResidualMLP(nn.Module):
    """Two linear layers with a gated residual connection."""

    def __init__(self, features: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.up = nn.Linear(features, hidden)
        self.down = nn.Linear(hidden, features)
        self.gate = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # expand, squash, project back
        h = F.relu(self.up(x))
        h = self.down(h)
        # the gate decides how much of the block to add
        g = torch.sigmoid(self.gate)
        return x + g * h


class Classifier(nn.Module):
    """Scores features with a bias-free linear head."""

    def __init__(self, features: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, features) / features**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = F.linear(x, self.weight)
        return F.softmax(logits, dim=-1)

"""DigitsNet: a small convolutional classifier for scikit-learn's bundled 8x8 digit images.

This is the model the README's demo (``./scripts/demo``) quantizes. ffq reads this file
without running it and writes ``QuantizedDigitsNet``; ``train.py`` trains it (a few seconds
on one core) and writes the checkpoint ``digits_net.pt`` next to this file.
"""

import torch
import torch.nn.functional as F
from torch import nn


class DigitsNet(nn.Module):
    """Two convolutions (the second one strided instead of a pooling layer), two linear
    layers; ReLU in between. Input: (N, 1, 8, 8) images in [0, 1]; output: 10 logits."""

    def __init__(self, width: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(2 * width * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)

"""A small CNN for scikit-learn's bundled 8x8 digits, trained in seconds (no download).

Used by test_workflow.py as a real trained model for the quantization workflow; defined in
its own module so that ffq can read its source.
"""

import torch
import torch.nn.functional as F
from torch import nn


class DigitsCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.act2 = nn.ReLU()
        self.pool = nn.AvgPool2d(2)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.act3 = nn.ReLU()
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.conv1(x))
        x = self.pool(self.act2(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        x = self.act3(self.fc1(x))
        return self.fc2(x)


def load_data(seed: int = 0):
    """(x_train, y_train, x_test, y_test): 1437 / 360 images, scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=g)
    x, y = x[order], y[order]
    return x[:1437], y[:1437], x[1437:], y[1437:]


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 10, lr: float = 3e-3,
          seed: int = 0, params=None):
    """Adam on cross-entropy, batches of 64; returns the mean loss of each epoch."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(params if params is not None else model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        total = 0.0
        for i in range(0, len(y), 64):
            idx = order[i:i + 64]
            out = model(x[idx])
            if hasattr(out, "dequantize") and type(out) is not torch.Tensor:
                out = out.dequantize()
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(y))
    model.eval()
    return losses


def logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        out = model(x)
    if hasattr(out, "dequantize") and type(out) is not torch.Tensor:
        out = out.dequantize()
    return out


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits(model, x).argmax(1) == y).float().mean()) * 100.0

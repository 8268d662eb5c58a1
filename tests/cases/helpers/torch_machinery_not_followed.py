# e2e: Device() <- torch.randn(2, 4)
import torch
from torch import nn


class Device(nn.Module):
    # torch's own machinery (torch.cuda, torch.autograd, torch.utils, torch._dynamo, ...) is
    # no model math: its functions are called as they are, never followed as helpers
    # (torch.cuda.is_available led into torch/cuda/__init__.py and its `global` statements)
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        if torch.cuda.is_available() and torch.cuda.device_count() > 8:
            x = x.cuda()
        if torch.jit.is_scripting():
            x = x + 1
        return self.proj(x) * 2

# ffq: --stub-tags --class Net --module submodules.registration_order_depth_first
# submodules/registration_order_depth_first.py with --stub-tags: each stub says what it quantizes (docs/autoquant.md §3.5).
import torch
from torch import nn


class Leaf(nn.Module):
    def forward(self, x):
        return torch.relu(x)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.second = Leaf()

    def forward(self, x):
        return self.second(x) * 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = Pair()
        self.head = nn.Linear(4, 4)  # hand-quantized: no generated class
        self.blocks = nn.Sequential(Leaf(), nn.ReLU())
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        h = self.pair(x)
        h = self.blocks(h)
        return self.head(h) + h

# A ModuleDict / Sequential subclass whose forward reads its own container (self.items(),
# for m in self) would run its quantizers as layers: the forward is kept (inherited) and
# reported, and no quantizer becomes a child of the container.
# e2e: DenseBlock() <- torch.randn(2, 4, 5, 5)
# e2e: Net() <- torch.randn(2, 4)
import torch
from torch import nn


class Layer(nn.Module):
    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, growth, 3, padding=1)

    def forward(self, feats):
        x = torch.cat(feats, 1)
        return torch.relu(self.conv(x))


class DenseBlock(nn.ModuleDict):
    def __init__(self, n: int = 2, cin: int = 4, growth: int = 2):
        super().__init__()
        for i in range(n):
            self.add_module("layer%d" % (i + 1), Layer(cin + i * growth, growth))

    def forward(self, x):
        features = [x]
        for name, layer in self.items():
            features.append(layer(features))
        return torch.cat(features, 1)


class Stack(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(4, 4), nn.ReLU())


class Head(nn.Sequential):
    def forward(self, x):
        for m in self:
            x = m(x) + x
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stack = Stack()
        self.head = Head(nn.Linear(4, 4))

    def forward(self, x):
        return self.head(self.stack(x)) * 2

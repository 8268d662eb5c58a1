# Sequential / ModuleList / ModuleDict subclasses whose forward reads their own container
# (self.items(), for m in self, self[i], len(self)) are converted: the runtime keeps their
# quantizer slots out of the container's entries, so the loops see the layers only. A class
# whose method iterates self.children() would run its quantizers (they are children): when
# it has any, its methods are kept (inherited) and reported; without any (Stage) it converts.
# e2e: DenseBlock() <- torch.randn(2, 4, 5, 5)
# e2e: Net() <- torch.randn(2, 4)
# e2e: Chain() <- torch.randn(2, 4)
# e2e: ByChildren() <- torch.randn(2, 4)
# e2e: Stage() <- torch.randn(2, 4)
# e2e: ViaMethod() <- torch.randn(2, 4)
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


class Chain(nn.ModuleList):
    def __init__(self):
        super().__init__([nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4)])

    def forward(self, x):
        for i in range(len(self) - 1):
            x = self[i](x) * 0.5
        return self[-1](x) + len(self)


class ByChildren(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        for m in self.children():
            x = torch.sigmoid(m(x))
        return x


class Stage(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Layer2()
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        for block in self.children():
            x = block(x)
        return x


class Layer2(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return torch.sigmoid(self.lin(x))


class ViaMethod(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)

    def forward(self, x):
        return self._run(x * 2)

    def _run(self, x):
        for m in self.children():
            x = m(x)
        return x

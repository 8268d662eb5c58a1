"""The float models of the end-to-end benchmarks (bench/e2e.py, bench/export_ort.py): one
definition, so both measure the same shapes from the same seeds.

* ``MLPStack``: a transformer MLP stack (4 x 768->3072->768, GELU, residuals).
* ``Encoder``: a small BERT-style encoder (4 layers, d=256, 4 heads, FFN 1024; torch modules).
* ``ResNet18``: ResNet-18's convolutions (batch norm folded into the conv biases), pooling and
  head.

``build(cls, seed)`` makes one with torch's default initialisation from a fixed seed, in eval
mode.
"""

import math

import torch
import torch.nn as nn


class MLPStack(nn.Module):
    def __init__(self, d=768, hidden=3072, layers=4):
        super().__init__()
        self.up = nn.ModuleList(nn.Linear(d, hidden) for _ in range(layers))
        self.down = nn.ModuleList(nn.Linear(hidden, d) for _ in range(layers))
        self.act = nn.GELU()

    def forward(self, x):
        for up, down in zip(self.up, self.down):
            x = x + down(self.act(up(x)))
        return x


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff1, self.ff2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.act = nn.GELU()

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads

        def split(y):
            return y.reshape(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // h), dim=-1)
        ctx = torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(self.act(self.ff1(x))))


class Encoder(nn.Module):
    def __init__(self, d=256, heads=4, ffn=1024, layers=4):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d, heads, ffn) for _ in range(layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.down = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.c2(self.relu(self.c1(x)))
        return self.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """ResNet-18's convolutions (batch norm folded into conv biases), pooling and head."""

    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, 7, 2, 3)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(3, 2, 1)
        blocks, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.pool(self.relu(self.stem(x)))
        x = self.blocks(x)
        return self.fc(torch.flatten(x.mean((2, 3)), 1))


def build(cls, seed):
    """The model with torch's default initialisation from a fixed seed, in eval mode."""
    torch.manual_seed(seed)
    return cls().eval()

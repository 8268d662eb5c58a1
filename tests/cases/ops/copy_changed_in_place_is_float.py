# A local bound to a value read from another name (a copy, a view, the name itself) and then
# changed in place (ultralytics' pose head: `y = kpts.clone()`, then `y[:, 0::3] = ...`) gets
# `fastforward.nn.functional.dequantized` after its binding: on the quantized path `kpts` is a
# QuantizedTensor, which cannot take values off its grid, where the float code sets values
# in a float tensor. A fresh value (`torch.zeros_like(x)`) needs no such line.
# e2e: Decode() <- torch.randn(2, 6)
import torch
from torch import nn


class Decode(nn.Module):
    def forward(self, kpts):
        y = kpts.clone()
        y[:, 2::3] = y[:, 2::3].sigmoid()
        y[:, 0::3] = y[:, 0::3] * 2.0 + 0.5
        acc = torch.zeros_like(kpts)
        acc.add_(y)
        return acc * 2

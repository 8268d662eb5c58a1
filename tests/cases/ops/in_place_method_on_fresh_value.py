# e2e: Chain() <- torch.randn(4, 4)
import torch
from torch import nn


class Chain(nn.Module):
    # An in-place method called on a value the statement computes (an op's result, a
    # submodule's output): on the quantized path that value may be a QuantizedTensor, which
    # takes no in-place change; the receiver goes through fastforward.nn.functional.dequantized.
    # A name or an attribute keeps its in-place change as written.
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.register_buffer("count", torch.zeros(4))

    def forward(self, x):
        n = (self.lin(x) - 1).clamp_(min=0)
        m = torch.zeros_like(x).masked_fill_(x > 1.0, 0.5)
        h = self.lin(x).relu_()
        self.count.add_(1)
        x.mul_(2)
        return n + m + h + self.count + x

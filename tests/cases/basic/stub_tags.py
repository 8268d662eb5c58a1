# ffq: --stub-tags
import torch
import torch.nn.functional as F


class Tagged(torch.nn.Module):
    """Each stub's tag (docs/autoquant.md §3.5): forward's parameters are inputs, operator
    results outputs, tensors the module holds weights / biases / parameters (by name, or by
    the operator slot they go to), everything else activations."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(4, 4))
        self.bias = torch.nn.Parameter(torch.randn(4))
        self.W = torch.nn.Parameter(torch.randn(4, 4))
        self.kernel = torch.nn.Parameter(torch.randn(4, 4))
        self.table = torch.nn.Parameter(torch.randn(2, 4))
        self.register_buffer("shift", torch.zeros(4))
        self.eps = 1e-5
        self.acc = torch.zeros(4)

    def forward(self, x, y):
        x = F.linear(x, self.weight, self.bias) + y
        k = self.kernel
        h = F.linear(x, self.W) + F.linear(x, k)
        h = h * self.table[0] + self.shift + self.eps
        self.acc = self.acc + h.mean(0)
        return torch.relu(h.sum(1)) + self.acc

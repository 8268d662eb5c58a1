# ffq: --stub-tags
import torch
import torch.nn.functional as F


def my_linear(x, w, b=None):
    return F.linear(x, w, b)


def scaled(x, s):
    return x * s


class Net(torch.nn.Module):
    """A helper's parameter quantizers take the tag of what each call passes (§3.5): module
    tensors are weights, biases or parameters; other values stay activations."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(4, 4))
        self.bias = torch.nn.Parameter(torch.randn(4))
        self.proj = torch.nn.Parameter(torch.randn(4, 4))
        self.gain = torch.nn.Parameter(torch.ones(4))

    def forward(self, x):
        h = my_linear(x, self.weight, self.bias)
        h = my_linear(h, w=self.proj)
        return scaled(h, self.gain) + scaled(h, x)

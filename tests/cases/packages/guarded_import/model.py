# A helper copied from a module that imports under a guard (try/except ImportError): the
# name comes from that module under a guard of its own, never as a bare failing import.
# e2e: Net() <- torch.randn(2, 4)
import torch

from .kern import norm


class Net(torch.nn.Module):
    def forward(self, x):
        return norm(x) * 2

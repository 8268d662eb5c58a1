# A helper that uses a name imported under a guard (try/except ImportError): the output
# imports that name from this module under a guard of its own, never as a bare import
# of a package that may be missing.
# e2e: Net() <- torch.randn(2, 4)
import torch

try:
    from fancy_fused_kernels import fused_norm

    HAS_FUSED = True
except ImportError:
    HAS_FUSED = False


def norm(x):
    if HAS_FUSED:
        return fused_norm(x)
    return x / (x.abs().sum() + 1)


class Net(torch.nn.Module):
    def forward(self, x):
        return norm(x) * 2

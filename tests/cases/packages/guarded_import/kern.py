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

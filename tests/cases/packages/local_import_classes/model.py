# Submodule classes imported inside __init__ (`from .norms import Norm`, as diffusers'
# MochiAttention does for MochiRMSNorm) are discovered through that import: they had no
# generated class, so the model's instances ran as quantize_model's float surrogates. A
# function-local import makes the name local to the whole function: it wins over a
# module-level class of the same name (this file's Norm).
# e2e: Attn() <- torch.randn(2, 4)
# e2e: Norm() <- torch.randn(2, 4)
import torch
from torch import nn


class Norm(nn.Module):
    def forward(self, x):
        return torch.relu(x) - 1


class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        from .norms import Gain as Amp
        from .norms import Norm

        self.norm = Norm()
        self.amp = Amp()
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        return self.amp(self.norm(self.proj(x)))

# Submodules built by factory functions in another file are discovered: the factories that
# the root's __init__ calls (directly, through a local, through a builder method or a
# builder object's methods), and the ones called by the module-level function that builds
# a root class (build_model passes them to Model's constructor). Unused is never built and
# gets no class.
# e2e: build_model() <- torch.randn(3, 4)
# e2e: Inner() <- torch.randn(3, 4)
import torch
from torch import nn

from factory_blocks import components


class Model(nn.Module):
    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x):
        return self.head(self.encoder(x)) * 2


class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = components.make_encoder(4, 1)
        gate = components.make_gate()
        self.gate = gate
        self.extra = self._make()
        builder = components.StackBuilder(4)
        self.stack = nn.Sequential(*builder(2))

    def _make(self):
        return nn.ModuleList([components.Block(4)])

    def forward(self, x):
        return self.stack(self.gate(self.extra[0](self.enc(x))))


def build_model(d: int = 4) -> Model:
    encoder = components.make_encoder(d)
    return Model(encoder, components.make_head(d))

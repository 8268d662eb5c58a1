# ffq: --no-type-inference
# e2e: Attrs(4) <- torch.randn(2, 4)
import torch


class Base(torch.nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.eps = 1e-5

    def forward(self, x):
        return x * self.eps


class Attrs(Base):
    def __init__(self, dim: int, num_heads: int = 2):
        super().__init__(dim)
        self.num_heads: int = num_heads
        self.scale = 0.125
        self.head_dim = dim // num_heads
        self.proj = torch.nn.Linear(dim, dim)
        self.cache = None

    def forward(self, x):
        _r = self.num_heads % 2
        s = self.scale * 2.0
        d = self.dim * self.head_dim + self.eps
        h = self.proj(x)
        y = h * s
        return y + d + _r

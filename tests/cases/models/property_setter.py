# A @property with a .setter is an attribute: self.scale_fn(x) calls what it returns, and no
# definition of it (the setter least of all) is copied into the generated class.
# e2e: Head() <- torch.randn(2, 4)
import torch


class Base(torch.nn.Module):
    @property
    def scale_fn(self):
        return torch.sigmoid

    @scale_fn.setter
    def scale_fn(self, value):
        self._f = value


class Head(Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale_fn(x) * x

# ffq: --no-type-inference
# e2e: Helpers() <- torch.randn(2, 3)
import torch


def width_of(x) -> int:
    return x.shape[-1]


def double(x: torch.Tensor) -> torch.Tensor:
    return x + x


class Helpers(torch.nn.Module):
    def scale(self) -> float:
        return 0.5

    def forward(self, x):
        w = width_of(x) * 2
        s = self.scale() * 3.0
        d = double(x)
        return d * w + s

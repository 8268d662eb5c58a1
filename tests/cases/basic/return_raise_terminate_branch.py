# e2e: Guard() <- torch.randn(2, 3)
# e2e: Guard() <- torch.randn(3) raises ValueError
import torch


class Guard(torch.nn.Module):
    def forward(self, x):
        if x.dim() != 2:
            y = x.sum()
            raise ValueError("expected a matrix")
        y = x.t()
        return y * y

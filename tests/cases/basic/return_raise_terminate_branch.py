import torch


class Guard(torch.nn.Module):
    def forward(self, x):
        if x.dim() != 2:
            y = x.sum()
            raise ValueError("expected a matrix")
        y = x.t()
        return y * y

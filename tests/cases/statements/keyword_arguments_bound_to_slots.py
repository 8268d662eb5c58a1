import torch


class Kw(torch.nn.Module):
    def forward(self, x, y):
        return torch.add(input=x, other=y, alpha=2)

import torch


class Halve(torch.nn.Module):
    def forward(self, x):
        n = x.numel()
        while n > 1:
            x = x / 2
            n = n // 2
        return torch.relu(x)

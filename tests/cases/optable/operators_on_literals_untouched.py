import torch


class Literals(torch.nn.Module):
    def forward(self, x):
        k = -1 + 2 // 3
        return x * k

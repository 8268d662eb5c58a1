import torch

SCALE = 3.0


class Const(torch.nn.Module):
    def forward(self, x):
        return x * SCALE

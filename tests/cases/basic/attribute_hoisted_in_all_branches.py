import torch
import torch.nn.functional as F


class Heads(torch.nn.Linear):
    def forward(self, x, mode: int):
        if mode == 0:
            return F.linear(x, self.weight, self.bias)
        elif mode == 1:
            return F.linear(x, self.weight)
        else:
            return F.linear(x * 2, self.weight)

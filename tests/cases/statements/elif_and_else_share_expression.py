import torch
import torch.nn.functional as F


class Modes(torch.nn.Linear):
    def forward(self, x, mode: int):
        if mode == 0:
            y = x * 2
        elif mode == 1:
            y = F.linear(x, self.weight)
        else:
            y = F.linear(x, self.weight)
        return y

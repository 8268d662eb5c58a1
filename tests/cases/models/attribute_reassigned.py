# self.acc = self.acc + s; return x + self.acc: the second read sees the new value, so
# a read of an attribute the function assigns is quantized where it is read.
# e2e: Acc() <- torch.randn(2, 4)
import torch


class Acc(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.acc = torch.zeros(2, 4)

    def forward(self, x):
        s = x.sum()
        self.acc = self.acc + s
        return x + self.acc
import torch


class Split(torch.nn.Module):
    def forward(self, x):
        b, a = x.chunk(2)
        (c, d), e = (a, b), a
        return a * b + c * d - e

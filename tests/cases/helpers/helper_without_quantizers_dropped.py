import torch


def shape_of(x):
    return x.shape


def scale(x, s):
    return x * s


class UsesHelpers(torch.nn.Module):
    def forward(self, x):
        n = shape_of(x)[0]
        return scale(x, n)

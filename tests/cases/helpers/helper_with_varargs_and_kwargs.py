import torch


def blend(x, *others, weight=0.5, **options):
    out = x
    for o in others:
        out = out + o
    return out * weight


class Blend(torch.nn.Module):
    def forward(self, x, y):
        return blend(x, y, weight=0.25)

import torch


def mix(a, b):
    return a * b


class Mixer(torch.nn.Module):
    def forward(self, x, y):
        return mix(x, y) + self.other(x, y)

    def other(self, x, y):
        return mix(y, x)

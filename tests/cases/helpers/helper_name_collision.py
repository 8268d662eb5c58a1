import torch


def quantized_norm(x):
    return x


def norm(x):
    return x / x.sum()


class Normalize(torch.nn.Module):
    def forward(self, x):
        return quantized_norm(norm(x))

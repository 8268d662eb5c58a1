import torch


def squash(x):
    return torch.sigmoid(x) - 0.5

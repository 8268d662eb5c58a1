import torch

from .right import right_half


def left_half(x):
    return right_half(x) + 1


def ping(x):
    return torch.relu(x)

import torch


def gate(x):
    return x * torch.sigmoid(x)

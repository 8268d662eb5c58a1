import torch


def repeat_relu(x, n: int):
    if n == 0:
        return x
    return repeat_relu(torch.relu(x), n - 1)


class Repeat(torch.nn.Module):
    def forward(self, x):
        return repeat_relu(x, 3)

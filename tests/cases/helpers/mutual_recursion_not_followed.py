import torch


def ping(x, n: int):
    if n <= 0:
        return torch.relu(x)
    return pong(x, n)


def pong(x, n: int):
    return ping(x * 2, n - 1)


class PingPong(torch.nn.Module):
    def forward(self, x):
        return ping(x, 2)

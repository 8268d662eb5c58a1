import torch


def outer_helper(x):
    return middle(x) + middle(x * 2)


def middle(x):
    return inner_helper(x)


def inner_helper(x):
    return x * x


class Deep(torch.nn.Module):
    def forward(self, x):
        return outer_helper(x)

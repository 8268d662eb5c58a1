# A helper's quantizers are named after its __name__ at run time: a decorator returning an
# inner function without functools.wraps renames it to that inner function (wrapper_mul);
# functools.wraps keeps the helper's own name; decorators apply from the innermost out.
# e2e: Net() <- torch.randn(2, 4)
import functools

import torch


def plain(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def keeps_name(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)

    return inner


def renames(fn):
    def outer_wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return outer_wrapper


@plain
def square(x):
    return x * x


@keeps_name
def gate(x):
    return x * torch.sigmoid(x)


@renames
@keeps_name
def shift(x):
    return x + 1


@keeps_name
@renames
def scale(x):
    return x * 3


class Net(torch.nn.Module):
    def forward(self, x):
        return square(x) + gate(x) + shift(x) + scale(x)

import functools

import torch


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# A helper behind a decorator keeps the decorator and its comments.
@traced
def gate(x, g):
    return x * torch.sigmoid(g)


class Gated(torch.nn.Module):
    def forward(self, x, g):
        return gate(x, g)

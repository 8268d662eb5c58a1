# Call sites are ordered breadth first over the body as it is after isolation (§5.1, §5.4):
# an isolated call is the value of its own `_tmp_N = call` statement, one level below the
# statements, like the call of `a = twice(x)`. So the first statement's call takes the
# first set of forwarded quantizers (`_1`) and its helper is queued (and written) first,
# whether or not a later call was moved into a temporary.
# e2e: Net() <- torch.randn(3, 4)
import torch


def twice(x):
    return x * x


def shifted(x):
    return x - 1


def chain(x):
    a = twice(x)
    return twice(a) + 1


class Net(torch.nn.Module):
    def forward(self, x):
        h = chain(x)
        return shifted(h) + twice(h)

# A quantized op that is directly the value of `yield` stays where it is, as after `return`
# (§2.8, §9.5); ops nested in it are moved out as usual, and a yielded tuple is no op.
# e2e: Net() <- torch.randn(4)
import torch


def scaled(x):
    for i in range(3):
        yield torch.relu(x) * i
    yield x, torch.sigmoid(x)


class Net(torch.nn.Module):
    def forward(self, x):
        *steps, (a, b) = scaled(x)
        return steps, a + b

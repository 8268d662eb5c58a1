# A helper called with a bare generator expression as its only argument (`mean(f(r) for r
# in x)`) gets its quantizer keywords after the generator, which then needs parentheses of
# its own: `quantized_mean((... for r in x), quantizer_add=...)`. A generator that shares
# the call with other arguments already has them; a generator given to a float call stays
# as written.
# e2e: Net() <- torch.randn(4, 3)
import torch


def mean(values, empty=0):
    values = iter(values)
    acc = next(values)
    n = 1
    for n, v in enumerate(values, 2):
        acc = acc + v
    return acc / n


class Net(torch.nn.Module):
    def forward(self, x):
        a = mean(r * 2 for r in x)
        b = torch.stack(list(r + 1 for r in x))
        return a + mean((r - 1 for r in x), empty=1) + b.sum()

# Quantizer names are quantizer_<base>, with _1, _2, ... for a base met more than once
# (§3.2). A suffixed name can still be another base's plain one: `x` quantized twice gives
# quantizer_x_1 and quantizer_x_2, and the variable `x_1` gives quantizer_x_1 as well. The
# quantizer created first keeps the name, a later one takes the first free `_1`, `_2`, ...
# after it (else two stubs share one attribute, and a helper has a duplicate parameter). A
# helper's quantizer parameters also leave alone the names its own source uses.
# e2e: Net() <- torch.randn(4)
import torch


def helper(x, quantizer_scale=2.0):
    x_1 = x.exp()
    y = x_1 + x
    x = y.abs()
    return x * quantizer_scale


class Net(torch.nn.Module):
    def forward(self, x):
        x_1 = x.exp()
        y = x_1 + x
        x = y.abs()
        return x * 2 + helper(x)

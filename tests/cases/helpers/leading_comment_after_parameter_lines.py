# A comment on a line of its own at the top of a helper's body leads its first statement:
# the parameters' quantizer lines go before it, as in a method (§2.3), also when the helper's
# header is written anew with its quantizer parameters.
# e2e: Net() <- torch.randn(2, 4)
import torch


def doubled(x):
    # twice the input
    return x * 2


class Net(torch.nn.Module):
    def forward(self, x):
        # the input, doubled
        return doubled(x) + x

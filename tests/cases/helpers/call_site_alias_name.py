# A helper called through another name that its module binds to the same function
# (`squash = _squash_impl`) is written under the name of the call, quantized_squash (§5.2);
# its body is the definition's, and the names of its forwarded quantizers keep the
# definition's name (quantizer__squash_impl_sigmoid). A helper called by its own name keeps it.
# e2e: Net() <- torch.randn(2, 4)
import torch


def _squash_impl(x):
    return torch.sigmoid(x) - 0.5


def shift(x):
    return x + 1


squash = _squash_impl


class Net(torch.nn.Module):
    def forward(self, x):
        return shift(squash(x))

# ffq: --no-stub-tags --module __main__
# helpers/tutorial_helper_chain.py with plain stubs: the expectation is FastForward's form, QuantizerStub().
# e2e: MyModuleWithHelper() <- torch.randn(2, 4) raises NameError
import torch
import fastforward as ff


# helper function that uses a helper
# itself
def helper(x, y):
    return inner_helper(x, y) + inner_helper(y, x)


def inner_helper(x, y):
    return x - y


class MyModuleWithHelper(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return helper(x, y)

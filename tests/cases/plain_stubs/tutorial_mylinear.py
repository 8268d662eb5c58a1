# ffq: --no-stub-tags --module __main__
# basic/tutorial_mylinear.py with the explicit --no-stub-tags (the default since stub tags became opt-in):
# FastForward's plain QuantizerStub(), the seed tutorial's text.
import torch
import torch.nn.functional as F


# Creating a custom linear layer because
# autoquant ignores known modules such
# as torch.nn.Linear
class MyLinear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.linear(input, self.weight, self.bias)

# ffq: --stub-tags --module __main__
# basic/tutorial_mylinear.py with --stub-tags: each stub says what it quantizes (docs/autoquant.md §3.5).
import torch
import torch.nn.functional as F


# Creating a custom linear layer because
# autoquant ignores known modules such
# as torch.nn.Linear
class MyLinear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.linear(input, self.weight, self.bias)

# A helper defined twice, under `if TYPE_CHECKING:` for type checkers and in the `else`
# branch for the run (torch.functional.meshgrid's form), is bound at run time by the else
# branch only: it is followed like any helper. It was taken for a function chosen when the
# module runs ([conditional-function]) and left in float.
# e2e: Net() <- torch.randn(2, 4)
import typing
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:

    def scale(x: torch.Tensor) -> torch.Tensor:
        return x

else:

    def scale(x):
        return x * 2


if typing.TYPE_CHECKING:

    def shift(x: torch.Tensor) -> torch.Tensor:
        return x

else:

    def shift(x):
        return x - 3


class Net(nn.Module):
    def forward(self, x):
        return shift(scale(x)) + 1

# torch.div's rounding_mode (keyword, as torch takes it, or None): the call is the table's div
# like `a / b`; with a mode the runtime calls torch.div(input, other, rounding_mode=...).
# Before, torch.div(x, y, rounding_mode=...) matched no overload and stayed in float.
# e2e: Divide() <- torch.randn(2, 4) * 10, torch.rand(2, 4) + 0.5
import torch


class Divide(torch.nn.Module):
    def forward(self, x, y):
        a = torch.div(x, y, rounding_mode="floor")
        b = torch.div(x, 3.0, rounding_mode="trunc")
        c = torch.div(x, y, rounding_mode=None)
        d = torch.div(x, other=y)
        return a, b, c, d, x / y

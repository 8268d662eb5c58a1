# A rich comparison (<, <=, >, >=, ==, !=) with a tensor operand is a tensor, an elementwise
# mask, as `x.eq(0)` and `torch.eq(x, 0)` are; with an operand of unknown type it may be one.
# So operators on such masks are candidates (~mask, mask & other). `is`, `in` and comparisons
# of known non-tensors stay bool, and operators on them stay as they are.
# e2e: Masks() <- torch.randn(3, 4), torch.randn(3, 4), 2
import torch


class Masks(torch.nn.Module):
    def forward(self, x, y: torch.Tensor, n: int):
        keep = ~(y == 0)
        both = (x > 0) & keep
        either = (y < 1) | both
        small = n > 1
        flags = small & (n is not None)
        inside = (n in (1, 2)) ^ small
        return both, either, flags, inside

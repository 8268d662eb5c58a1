# Where running a repeated inline quantizer call once would not be the same program, each
# read keeps its own call (docs/autoquant.md §2.4, §12): reads under a conditional
# expression, the right operand of `and`/`or`, an `elif` test, a `while` test (evaluated
# again on every iteration), a comprehension, a lambda; the value reassigned (also by a
# walrus), stored into, updated in place (also by `+=` on a list) or possibly changed by a
# call between two reads; reads in different blocks; and helpers (their quantizers are not
# `self.` calls).
# e2e: Conditional() <- torch.randn(4, 3), True
# e2e: Conditional() <- torch.randn(0, 3), False
# e2e: ShortCircuit() <- torch.randn(4, 3), True
# e2e: ShortCircuit() <- torch.randn(0, 3), False
# e2e: ElifTest() <- torch.randn(4), 1
# e2e: ElifTest() <- torch.randn(0), 0
# e2e: WhileTest() <- torch.tensor([8.0, 1.0])
# e2e: Comprehension() <- torch.randn(4, 3), [torch.randn(3), torch.randn(3)]
# e2e: Comprehension() <- torch.randn(0, 3), []
# e2e: InLambda() <- torch.randn(4, 3)
# e2e: Reassigned() <- torch.randn(4, 3)
# e2e: StoredBetween() <- torch.randn(4, 3)
# e2e: WalrusBetween() <- torch.randn(4, 3)
# e2e: ListUpdatedBetween() <- torch.randn(4, 3), [0]
# e2e: InPlaceBetween() <- torch.randn(4, 3)
# e2e: ModuleBetween() <- torch.randn(4, 3)
# e2e: DifferentBlocks() <- torch.randn(4, 3), True
# e2e: ViaHelper() <- torch.randn(4, 3)
import torch


class Conditional(torch.nn.Module):
    def forward(self, x, flag: bool):
        y = x[0] * x[0] if flag else x
        return y


class ShortCircuit(torch.nn.Module):
    def forward(self, x, first: bool):
        y = first and x[0] * x[0]
        return y


class ElifTest(torch.nn.Module):
    def forward(self, x, mode: int):
        if mode == 0:
            return x
        elif x[0] * x[0] > 1.0:
            return x * 2
        return x


class WhileTest(torch.nn.Module):
    def forward(self, x):
        while x[0] * x[0] > 1.0:
            x = x * 0.5
        return x


class Comprehension(torch.nn.Module):
    def forward(self, x, vs: list[torch.Tensor]):
        return [x[0] * x[0] + v for v in vs]


class InLambda(torch.nn.Module):
    def forward(self, x):
        f = lambda v: x[0] * x[0] + v  # noqa: E731
        return f(x[1]) * x[0]


class Reassigned(torch.nn.Module):
    def forward(self, x):
        a = x[0] * 2
        x = x + 1
        return a + x[0]


class StoredBetween(torch.nn.Module):
    def forward(self, x):
        a = x[0] * 2
        x[0] = a
        return a + x[0]


class WalrusBetween(torch.nn.Module):
    def forward(self, x):
        a = x[0] * 2
        b = (x := x + 1)
        return a + x[0] + b


class ListUpdatedBetween(torch.nn.Module):
    def forward(self, x, rows: list[int]):
        a = x[rows] * 2
        rows += [1]
        return a + x[rows]


class InPlaceBetween(torch.nn.Module):
    def forward(self, x):
        a = x[0] * 2
        x.mul_(2)
        return a + x[0]


class Doubler(torch.nn.Module):
    def forward(self, x):
        x.mul_(2)
        return x


class ModuleBetween(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.doubler = Doubler()

    def forward(self, x):
        a = x[0] * 2
        h = self.doubler(x)
        return a + h + x[0]


class DifferentBlocks(torch.nn.Module):
    def forward(self, x, flag: bool):
        a = x[0] * 2
        if flag:
            a = a + x[0]
        return a


def helper(x):
    return x[0] * x[0]


class ViaHelper(torch.nn.Module):
    def forward(self, x):
        return helper(x)

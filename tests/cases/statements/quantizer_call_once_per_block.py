# The same inline quantizer call on the same value, read twice in one block, runs once
# into a temporary (docs/autoquant.md §2.4): within a statement, across statements with
# only quantized operators in between, in a nested block, in an `if` test and a `for`
# iterable, before a leading comment, and in a loop body; other names assigned in between do
# not matter; the temporary's number is the smallest no `_tmp_` name of the block uses.
# e2e: SameStatement() <- torch.randn(4, 3), 1
# e2e: AcrossStatements() <- torch.randn(4, 3)
# e2e: TwoValues() <- torch.randn(4, 3)
# e2e: InBranch() <- torch.randn(4, 3), True
# e2e: InBranch() <- torch.randn(4, 3), False
# e2e: Headers() <- torch.randn(4)
# e2e: Headers() <- torch.tensor([0.1, 2.0, 3.0, 4.0])
# e2e: Commented() <- torch.randn(4, 3)
# e2e: InLoop() <- torch.randn(4, 3)
# e2e: SameTarget() <- torch.randn(4, 3)
# e2e: OtherNamesBetween() <- torch.randn(4, 3)
# e2e: NamedLikeTemporary() <- torch.randn(4, 3)
# e2e: AugmentedTarget() <- torch.randn(4, 3)
# e2e: OneLineSuite() <- torch.randn(4, 3), True
# e2e: OneLineSuite() <- torch.randn(4, 3), False
import torch


class SameStatement(torch.nn.Module):
    def forward(self, x, i: int):
        return torch.relu(x[i] * x[i])


class AcrossStatements(torch.nn.Module):
    def forward(self, x):
        a = x[0] * 2
        b = a + x[0]
        return b - x[0]


class TwoValues(torch.nn.Module):
    def forward(self, x):
        y = x[1] * x[0] + x[0] * x[1]
        return y


class InBranch(torch.nn.Module):
    def forward(self, x, flag: bool):
        h = torch.sigmoid(x)
        if flag:
            h = h + x[0] * x[0]
        return h * x[0]


class Headers(torch.nn.Module):
    def forward(self, x):
        total = x[0]
        if x[0] * x[0] > 1.0:
            total = total * 2
        for v in x[1:3] * x[1:3]:
            total = total + v
        return total


class Commented(torch.nn.Module):
    def forward(self, x):
        h = torch.relu(x)
        # the comment stays with its statement
        y = x[0] * x[0]
        return h + y


class InLoop(torch.nn.Module):
    def forward(self, x):
        acc = x[0]
        for i in range(1, 4):
            acc = acc + x[i] * x[i]
        return acc


class SameTarget(torch.nn.Module):
    def forward(self, x):
        # x[0] is read twice before the store to x[0] happens
        x[0] = x[0] * x[0]
        return x


class OtherNamesBetween(torch.nn.Module):
    def forward(self, x):
        a = x[0] * 2
        y = x + 1
        return a + x[0] + y


class NamedLikeTemporary(torch.nn.Module):
    def forward(self, x):
        _tmp_1 = 3
        y = x[0] * x[0]
        return y + _tmp_1


class AugmentedTarget(torch.nn.Module):
    def forward(self, x):
        x[0] += x[0]
        return x


class OneLineSuite(torch.nn.Module):
    def forward(self, x, flag: bool):
        if flag: y = x[0] * x[0]
        else: y = x
        return y

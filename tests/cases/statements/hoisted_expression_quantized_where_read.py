# e2e: Rebound() <- torch.randn(3, 3), torch.randn(3, 3)
# e2e: LoopIndex() <- torch.randn(5, 4), torch.tensor([[0], [1], [2], [1], [0]])
# e2e: LoopRebinds() <- torch.randn(5, 4)
# e2e: Guarded(None) <- torch.randn(2, 4)
# e2e: Guarded(0.25) <- torch.randn(2, 4)
# e2e: Conditional(None) <- torch.randn(2, 4)
# e2e: Conditional(0.5) <- torch.randn(2, 4)
# e2e: StillHoisted() <- torch.randn(2, 4), True
# e2e: StillHoisted() <- torch.randn(2, 4), False
import torch
from torch import nn


# An expression quantizer (§2.4) is hoisted to one line before the first statement that
# reads it only where every read sees the value that line computes and the line runs
# nothing the program would not; otherwise it is quantized in place at each read.


class Rebound(nn.Module):
    # `x.T` read before and after x changes: each read quantizes the x it sees
    def forward(self, x, w):
        y = torch.matmul(x.T, w)
        x = x + 1
        z = torch.matmul(x.T, w)
        return y + z


class LoopIndex(nn.Module):
    # reads of the loop variable stay in the loop (SAM's point embeddings)
    def __init__(self):
        super().__init__()
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, 4) for _ in range(3))

    def forward(self, x, labels):
        for i in range(3):
            x = x + self.point_embeddings[i].weight * (labels == i)
        return x


class LoopRebinds(nn.Module):
    # `x > 0` in a loop that assigns x: quantized on every pass
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        for _ in range(2):
            x = self.lin(x) * (x > 0)
        return x


class Guarded(nn.Module):
    # an `if` without `else`: its expression runs only when the test holds
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.p is not None:
            x = x * (1.0 - self.p)
        return x


class Conditional(nn.Module):
    # a conditional expression's branch and the right operand of `and`
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        y = x * (1.0 - self.p) if self.p is not None else x
        z = self.p is not None and x * (2.0 - self.p)
        return y, z


class StillHoisted(nn.Module):
    # nothing the expressions read changes: one line before the loop, one before the `if`
    # whose every branch reads it
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(4) + 0.5)

    def forward(self, x, flag: bool):
        for _ in range(2):
            x = x * self.scale
        if flag:
            y = x + self.scale.T
        else:
            y = x - self.scale.T
        return y

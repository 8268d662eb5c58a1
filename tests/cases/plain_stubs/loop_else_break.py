# ffq: --no-stub-tags --module models.loop_else_break
# models/loop_else_break.py with plain stubs: the expectation is FastForward's form, QuantizerStub().
# e2e: Loop() <- torch.randn(2, 4)
# e2e: Loop() <- torch.randn(2, 4) * 100, n=5
import torch


class Loop(torch.nn.Module):
    def forward(self, x, n: int = 3):
        i = 0
        while i < n:
            x = x + 1
            if x.sum() > 100:
                y = x * 3
                break
            i += 1
        else:
            y = x * 2
        for k in range(n):
            y = y - k
        else:
            y = torch.relu(y) + x
        return y

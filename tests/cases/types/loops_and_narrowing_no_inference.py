# ffq: --no-type-inference
# e2e: Loops() <- torch.randn(2, 3), [1, 2], 3
import torch


class Loops(torch.nn.Module):
    def forward(self, x, steps, depth: int):
        total = 0
        for i in range(depth):
            total = total + i * 2
        for j, s in enumerate(steps):
            total = total + j
        for a, b in zip(range(2), [0.5, 1.5]):
            total = total + a * b
        k = 0
        while k < depth:
            k = k + 1
        if isinstance(steps, int):
            steps = steps * 2
        out = x
        for t in [x, x]:
            out = out + t
        return out * total + k

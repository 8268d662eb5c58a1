# ffq: --no-type-inference
# e2e: Literals() <- torch.randn(2, 3)
import torch


class Literals(torch.nn.Module):
    def forward(self, x):
        a = 3
        b = a * 4 - 1
        c = b / 2
        d = -a
        e = int(c) // 2 + float("1.5")
        flag = a < b
        mask = not flag
        items = [a, b]
        table = {"a": a}
        both = (a, c)
        s = a ** 2 % 5
        return x * e + s + items[0] + table["a"] + both[1] + d + int(mask)

import torch


class Blocks(torch.nn.Module):
    # A comprehension variable used twice inside a later `for`'s iterable: Python refuses an
    # assignment expression there, so every use of it calls its quantizer (in the element
    # too), instead of the first binding `__ffN` for the others.
    def forward(self, x, blocks, n: int):
        order = tuple(i for b in blocks for i in range(b * n, (b + 1) * n))
        pairs = [y * b + b for b in blocks if b > 0 for y in (b * 2, b * 3)]
        return x * len(order), pairs

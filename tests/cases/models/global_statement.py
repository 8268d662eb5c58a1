# `global COUNTER; COUNTER += 1`: the global lives in the input's module, so the function
# is kept (inherited) and reported instead of writing a name the output does not have.
# e2e: skip each call increments the global, so two runs never see the same value
import torch

COUNTER = 0


class Counting(torch.nn.Module):
    def forward(self, x):
        global COUNTER
        COUNTER += 1
        return x + COUNTER
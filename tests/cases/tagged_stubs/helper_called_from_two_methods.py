# ffq: --stub-tags --module helpers.helper_called_from_two_methods
# helpers/helper_called_from_two_methods.py with --stub-tags: each stub says what it quantizes (docs/autoquant.md §3.5).
import torch


def mix(a, b):
    return a * b


class Mixer(torch.nn.Module):
    def forward(self, x, y):
        return mix(x, y) + self.other(x, y)

    def other(self, x, y):
        return mix(y, x)

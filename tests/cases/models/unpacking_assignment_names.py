# Names a module binds by unpacking (monai: `rearrange, _ = optional_import("einops", ...)`)
# are imported by the output like names bound by a plain assignment.
import torch
from torch import nn


def optional_import(name):
    return (lambda x: x.flip(-1)), True


flip, has_flip = optional_import("kernels")
(scale, [shift, *rest]) = (2.0, [1.0, 3.0, 4.0])


class Mix(nn.Module):
    def forward(self, x):
        if has_flip:
            x = flip(x)
        return torch.relu(x * scale + shift) + len(rest)

# A helper that changes a tensor it is given in place (torchvision's MViT: `attn =
# torch.matmul(q, k)` then `_add_rel_pos(attn, ...)`, which does `attn[:, :, 1:, 1:] = ...`;
# `x = torch.matmul(attn, v)` then `_add_shortcut(x, q)`, which does `x[...] += q[...]`):
# the call counts as a change in place of the argument's name, as `attn[...] = ...` in the
# function itself would, so the op that bound it stays in float with a note (an output
# quantizer would make it a QuantizedTensor, which takes no change in place). A helper that
# rebinds its parameter before changing it (`t = t.clone()`) changes the caller's tensor
# nothing, and a keyword argument binds the parameter of its name.
# e2e: Attn() <- torch.randn(2, 5, 4)
import torch


def add_bias(attn, bias):
    attn[:, 1:, 1:] = attn[:, 1:, 1:] + bias
    return attn


def add_shortcut(x, q):
    x[:, 1:] += q[:, 1:]


def scaled_copy(t, s):
    t = t.clone()
    t.mul_(s)
    return t


class Attn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.randn(4, 4))

    def forward(self, q):
        attn = torch.matmul(q, q.transpose(1, 2))
        attn = add_bias(attn, self.bias)
        x = torch.matmul(attn.softmax(dim=-1), q)
        add_shortcut(q=q, x=x)
        y = torch.matmul(x, q.transpose(1, 2))
        return scaled_copy(y, 2.0) + y

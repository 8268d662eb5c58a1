# `axis: int | tuple[int] | list[int]` and `tensor: Tensor | tuple[Tensor]`: tensor.ndim is
# the tensor's (a tuple has none), and `axis % 4` is an int (with a list or tuple operand it
# is a TypeError): no quantizer for either, nor for `dim + 0`; the cat gets one.
import torch
from torch import nn


class StridePool(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def stride_pool(self, tensor: torch.Tensor | tuple[torch.Tensor], axis: int | tuple[int] | list[int]):
        if isinstance(axis, (list, tuple)):
            for ax in axis:
                tensor = self.stride_pool(tensor, ax)
            return tensor
        axis %= tensor.ndim
        dim = axis % 4
        return torch.cat([tensor[:, :1], tensor], dim + 0)

    def forward(self, x):
        return self.stride_pool(self.proj(x), (1,))

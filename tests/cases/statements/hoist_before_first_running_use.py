import torch
from torch import nn


class Pad(nn.Module):
    def __init__(self, window_size):
        super().__init__()
        self.window_size = window_size

    def forward(self, hidden_states, height: int, width: int):
        # `self.window_size` is quantized once; its first use to run is the right one,
        # inside `width % self.window_size`'s temporary (transformers' Swin maybe_pad)
        pad_right = (self.window_size - width % self.window_size) % self.window_size
        pad_bottom = (self.window_size - height % self.window_size) % self.window_size
        return nn.functional.pad(hidden_states, (0, 0, 0, pad_right, 0, pad_bottom))

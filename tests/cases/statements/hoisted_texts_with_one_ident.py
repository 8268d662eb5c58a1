# e2e: Masks() <- torch.randn(5, 4), torch.randn(5, 4), torch.randn(5, 4), torch.tensor([[0], [1], [2], [1], [0]])
import torch
from torch import nn


class Masks(nn.Module):
    # `labels != 1` and `labels == 1` both make the ident labels_1: each text keeps its own
    # quantizer and its own variable (labels_1_1, labels_1_2), so the third line reads the
    # first mask, not the second (SAM's point_labels != -1 / == -1)
    def forward(self, x, y, z, labels):
        a = x * (labels != 1)
        b = y * (labels == 1)
        c = z * (labels != 1)
        return a + b + c

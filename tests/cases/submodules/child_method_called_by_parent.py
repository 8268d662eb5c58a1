# e2e: PromptEncoder() <- torch.randn(3, 2)
import torch
from torch import nn


class PositionEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 4)

    def forward(self, coords):
        return self.lin(coords)

    def with_coords(self, coords_input):
        coords = coords_input.clone()
        coords[:, 0] = coords[:, 0] / 4
        return self.forward(coords)

    def unused(self, x):
        return x * 3


class PromptEncoder(nn.Module):
    # The parent calls a method of its child other than forward (SAM's PromptEncoder calls
    # self.pe_layer.forward_with_coords): that method is converted in the child's class, which
    # the swapped child then runs. A method nobody calls (unused) is not.
    def __init__(self):
        super().__init__()
        self.pe_layer = PositionEmbedding()

    def forward(self, points):
        return self.pe_layer.with_coords(points + 0.5)

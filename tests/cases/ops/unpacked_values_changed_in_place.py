# e2e: MaskedV() <- torch.randn(2, 5, 8), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
import torch
from torch import nn


class MaskedV(nn.Module):
    # Names bound by unpacking what map hands back of other names' values (torch_geometric's
    # SGFormer and Performer attention), then changed in place, get
    # fastforward.nn.functional.dequantized after the binding, as a copy of a name does
    def __init__(self):
        super().__init__()
        self.k = nn.Linear(8, 8)
        self.v = nn.Linear(8, 8)

    def forward(self, x, mask):
        ks, vs = self.k(x), self.v(x)
        ks, vs = map(lambda t: t.reshape(2, 5, 2, 4), (ks, vs))
        vs.masked_fill_(~mask[:, :, None, None], 0.0)
        return ks * vs

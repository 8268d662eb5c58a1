# ffq: --module 'a b'
# --module is not validated: `from a b import M` is written.
import torch


class M(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)

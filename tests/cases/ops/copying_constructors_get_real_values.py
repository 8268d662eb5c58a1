# e2e: Build() <- torch.randn(2, 3), torch.tensor([[0, 1, 2], [0, 1, 2]])
import torch
from torch import nn


class Build(nn.Module):
    # torch.tensor, x.new_tensor, the sparse constructors and torch.nested.nested_tensor copy
    # a tensor's memory without asking it (a QuantizedTensor would give its integer codes):
    # their data argument goes through fastforward.nn.functional.dequantized, literal data
    # and values inferred to be no tensor (query.size(-1)) do not
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x, idx):
        v = self.lin(x).relu() * 2
        a = torch.sparse_coo_tensor(idx, v[0], (3, 3)).to_dense()
        b = torch.tensor(v[1] + 1, dtype=torch.float32)
        c = x.new_tensor(v[0] * 3)
        n = torch.nested.nested_tensor([v[0] + 0, v[1] + 0]).to_padded_tensor(0.0)
        size = torch.tensor(x.size(-1))
        return a.sum(0) + b + c + n.sum(0) + torch.tensor([1.0, 2.0, 3.0]) + size

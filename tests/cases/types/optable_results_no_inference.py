# ffq: --no-type-inference
# e2e: TableResults() <- torch.randn(2, 3)
import torch
import torch.nn.functional as F


class TableResults(torch.nn.Module):
    def forward(self, x):
        y = F.relu(x)
        n = y.size(0) * 2
        z = torch.sigmoid(y) * n
        return z + y

# optable: tables/pattern-table.yaml
import torch


class FromTable(torch.nn.Module):
    def forward(self, x):
        return torch.tanh(x)

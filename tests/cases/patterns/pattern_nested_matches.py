# ffq: --replace 'torch.sigmoid({a})=>torch.relu({a})'
# e2e: skip the --replace rule changes the computation on purpose
import torch


class Nested(torch.nn.Module):
    def forward(self, x):
        return torch.sigmoid(torch.sigmoid(x) * 2)

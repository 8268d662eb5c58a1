import torch


class Nested(torch.nn.Module):
    def forward(self, x):
        def inner(t):
            return torch.relu(t)

        return inner(x) + x

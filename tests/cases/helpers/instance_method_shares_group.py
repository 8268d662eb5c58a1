import torch


class TwoMethods(torch.nn.Module):
    def forward(self, x):
        x = self.prepare(x)
        return torch.relu(x)

    def prepare(self, x):
        return x * 2

    def unused(self, x):
        return x + 1

import torch


class Multi(torch.nn.Module):
    def forward(self, x):
        a, b = torch.relu(x)
        return a

    def other(self, x):
        return x

import torch


class Lam(torch.nn.Module):
    def forward(self, x):
        act = lambda t: torch.relu(t) + 1
        return act(x) * 2

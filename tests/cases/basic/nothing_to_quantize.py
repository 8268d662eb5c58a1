import torch


class Identityish(torch.nn.Module):
    def forward(self, x):
        return x

import torch


class Chain(torch.nn.Module):
    def forward(self, x):
        x = torch.relu(x)
        x = x * x
        return torch.sigmoid(x)

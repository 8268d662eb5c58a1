import torch


class Pick(torch.nn.Module):
    def forward(self, x, idx):
        y = x[idx] + x[idx]
        return torch.relu(y)

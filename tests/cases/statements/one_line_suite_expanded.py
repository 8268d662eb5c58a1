import torch


class OneLine(torch.nn.Module):
    def forward(self, x, flag: bool):
        if flag: return torch.relu(x.abs())
        return x

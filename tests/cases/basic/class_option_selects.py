# ffq: --class Wanted
import torch


class Unwanted(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)


class Wanted(torch.nn.Module):
    def forward(self, x):
        return torch.sigmoid(x)

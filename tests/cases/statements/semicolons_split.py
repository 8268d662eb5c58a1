import torch


class Semi(torch.nn.Module):
    def forward(self, x):
        a = torch.relu(x); b = a * 2; return b

import torch


class Headers(torch.nn.Module):
    def forward(self, xs, x):
        if torch.sum(x) > 0:
            x = x * 2
        for y in torch.cat([xs, xs]):
            x = x + y
        while torch.sum(x) > 100:
            x = x / 2
        return x

import torch


class Branchy(torch.nn.Module):
    def forward(self, x, flag: bool):
        if flag:
            y = x.exp()
        else:
            y = x.abs()
        return torch.relu(y)

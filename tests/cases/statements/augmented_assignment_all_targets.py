import torch


class Aug(torch.nn.Module):
    def forward(self, x, y, idx):
        x += y
        x *= torch.sigmoid(y)
        self.acc += x
        y[idx] -= x
        return x, y

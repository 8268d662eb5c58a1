# ffq: --replace 'torch.tanh({a})=>torch.sigmoid({a} * 2)'
import torch


class Complex(torch.nn.Module):
    def forward(self, x, y):
        return torch.tanh(x[1:] + y.exp())

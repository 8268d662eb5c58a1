# ffq: --replace 'torch.tanh({a})=>torch.sigmoid({a} * 2)'
# e2e: skip the --replace rule changes the computation on purpose
import torch


class Complex(torch.nn.Module):
    def forward(self, x, y):
        return torch.tanh(x[1:] + y.exp())

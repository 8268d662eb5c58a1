# torch.addmm and torch.baddbmm are table ops. A linear layer storing its weight transposed
# (transformers' Conv1D: torch.addmm(self.bias, x.view(-1, nx), self.weight)) gets weight and
# bias quantizers, and an input and output quantizer; before, nothing in it was quantized.
# baddbmm's first argument is not a quantized slot: with beta=0 it is uninitialised memory
# that torch ignores (GPT-2's upcast attention scores: torch.empty; zeros here, as torch 1.13
# still multiplies a NaN of that memory by 0), and beta/alpha are keywords.
# e2e: TransposedLinear(4, 3) <- torch.randn(2, 5, 4)
# e2e: Scores() <- torch.randn(6, 5, 4), torch.randn(6, 4, 5)
import torch
from torch import nn


class TransposedLinear(nn.Module):
    def __init__(self, nx, nf):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf))
        self.bias = nn.Parameter(torch.randn(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        y = torch.addmm(self.bias, x, self.weight.t()[:3, :3], beta=0.5, alpha=2)
        return x.view(size_out), y


class Scores(nn.Module):
    def forward(self, q, k):
        scores = torch.zeros(q.size(0), q.size(1), k.size(-1), dtype=q.dtype)
        scores = torch.baddbmm(scores, q, k, beta=0, alpha=0.5)
        return scores

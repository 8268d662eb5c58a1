# e2e: Attention() <- torch.randn(2, 8), torch.randn(2, 4)
import torch


def _repeat(t):
    return t.repeat(1, 2)


class Attention(torch.nn.Module):
    def forward(self, q, k):
        k = _repeat(k)
        score = q @ k.T
        return score.softmax(-1) @ k

# torch.rsqrt, torch.tanh (and torch.nn.functional.tanh) and torch.sqrt are table ops: the
# RMS norm of Llama-style models and the tanh GELU of GPT-2 are quantized where they call
# them (the tensor methods pow / mean stay as they are, spec section 6.6).
# e2e: RMSNorm(4) <- torch.randn(2, 3, 4)
# e2e: NewGELU() <- torch.randn(2, 3, 4)
import math

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size) + 0.5)
        self.eps = eps

    def forward(self, hidden_states):
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.eps)
        return self.weight * hidden_states


class NewGELU(nn.Module):
    def forward(self, x):
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
        y = 0.5 * x * (1.0 + torch.tanh(inner))
        return y, F.tanh(x), torch.sqrt(x.abs())

# Non-UTF-8 bytes (latin-1) in code copied into forward: the output is not
# valid UTF-8, so not valid Python; expected a diagnostic (or an escape).
import torch


class M(torch.nn.Module):
    def forward(self, x):
        s = "café"
        return torch.relu(x)

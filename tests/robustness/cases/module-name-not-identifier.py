# The module name derived from this file name, "module-name-not-identifier",
# is not a Python identifier: `from module-name-not-identifier import M` is
# invalid. Expected: a diagnostic asking for --module (or a valid output).
import torch


class M(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)

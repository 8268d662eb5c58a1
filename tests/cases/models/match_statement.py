# A match statement cannot take inserted lines between its cases: the function is kept
# (inherited) and reported, never emitted as invalid Python.
# e2e: Matcher() <- torch.randn(2, 4), mode='a'
# e2e: Matcher() <- torch.randn(2, 4), mode='b'
import torch


class Matcher(torch.nn.Module):
    def forward(self, x, mode: str = "a"):
        match mode:
            case "a":
                return torch.relu(x) + 1
            case _:
                return x * 2
# while ... else: converted; the else block is flowed from the states where the loop
# ends normally, then joined with the breaks.
import torch


class WhileElse(torch.nn.Module):
    def forward(self, x):
        while x.sum() > 0:
            x = x - 1
        else:
            x = x * 2
        return torch.relu(x)

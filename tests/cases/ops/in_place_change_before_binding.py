# Only a change in place that may run after a name is bound keeps the op that binds it in
# float. An item assignment into a list changes no tensor (`outs[0] = ...` before
# torch.cat), and a tensor changed in place before it is bound again to an op's result
# (`buf.add_(x)` then `buf = buf * 3`) is quantized as usual from there; its first value,
# changed after it is bound, is not. A value rebound before the change never sees it
# (`tab = torch.exp(x)` then `tab = tab * 2` then `tab[0] = 0`: only the product stays float).
# e2e: Merge() <- torch.randn(2, 3), torch.randn(2, 3)
import torch


class Merge(torch.nn.Module):
    def forward(self, x, y):
        outs = [x, y]
        outs[0] = outs[0] * 2
        joined = torch.cat(outs, dim=1)
        buf = torch.zeros_like(x)
        buf.add_(x)
        buf = buf * 3
        tab = torch.exp(x)
        tab = tab * 2
        tab[0] = 0
        return torch.relu(joined) + buf.sum() + tab.sum()

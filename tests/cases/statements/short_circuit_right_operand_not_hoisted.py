import torch


class ShortCircuit(torch.nn.Module):
    def forward(self, x, mask):
        ok = mask is None or torch.sigmoid(mask).sum() > 0
        return x if ok else -x

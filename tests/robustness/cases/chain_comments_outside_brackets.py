# Temporaries made from the links of a chain written inside parentheses, with
# comments between the links (transformers' Swin attention mask): the values
# kept their line breaks outside any bracket, which is invalid Python.
import torch


class Chain(torch.nn.Module):
    def forward(self, x, mask):
        mask = (
            mask.unsqueeze(1)  # one comment
            .unsqueeze(0)  # another
            # and a whole line
            .expand(2, -1, -1, -1)  # (batch, n, 1, d)
            .reshape(-1, 1, 4)  # last
        )
        return x + mask


class HeaderComment(torch.nn.Module):
    def __init__(self, splits):
        super().__init__()
        self.splits = splits

    def forward(self, x):
        if self.training:  # timm's SplitBatchNorm2d: the block's prologue went onto this line
            size = x.shape[0] // self.splits
            return x * (size * self.splits)
        else:
            return x

import torch


class HeaderComment(torch.nn.Module):
    def __init__(self, splits):
        super().__init__()
        self.splits = splits

    def forward(self, x):
        if self.training:  # a comment on the header's line stays there
            size = x.shape[0] // self.splits
            return x * (size * self.splits)
        else:
            return x


class HeaderAndOwnLineComments(torch.nn.Module):
    def __init__(self, splits):
        super().__init__()
        self.splits = splits

    def forward(self, x):
        if self.training:  # the header's comment stays on its line
            # a comment on its own line leads the block: the prologue goes before it
            size = x.shape[0] // self.splits
            return x * (size * self.splits)
        return x

import torch
from torch import nn


class Block(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def make_block():
    return Block()


class Net(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return self.block(x) + 1


# The script builds the model: what it passes to Net's constructor is discovered
# (Block, through make_block); the rest of the script is not a submodule.
model = Net(make_block())

if __name__ == "__main__":
    from some_uninstalled_package import report

    for i in range(2):
        net = Net(make_block())
        report(net)

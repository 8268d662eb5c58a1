import torch


class ChainedComparison(torch.nn.Module):
    def forward(self, x):
        # torch.sigmoid(x).sum() runs only when x.sum() < 0: it stays in place
        if_small = x.sum().item() < 0 < torch.sigmoid(x).sum() * 2
        return x * if_small


class AssertMessage(torch.nn.Module):
    def forward(self, x):
        # the message runs only when the test fails: it stays in place
        assert x.numel() > 0, "empty input: %s" % torch.relu(x).sum()
        return x + 1

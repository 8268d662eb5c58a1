import torch


class TargetAfterValue(torch.nn.Module):
    def forward(self, x, y):
        # Python computes the value first, then the target's index: the index's
        # computation stays in the target, after the value's temporaries
        y[x * x > 0] = torch.relu(x)[x * x > 0] * 2
        return y


class AugmentedTargetFirst(torch.nn.Module):
    def forward(self, x, y):
        # `t[i] += v` reads t[i] before computing v: the index may move before the statement
        y[x.argmax()] += torch.sigmoid(x).sum()
        return y

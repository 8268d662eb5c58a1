import torch


class Tries(torch.nn.Module):
    def forward(self, x):
        try:
            y = x.exp()
        except RuntimeError:
            y = x.abs()
        else:
            x = x.neg()
        finally:
            pass
        return y * x

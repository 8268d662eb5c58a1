# One evaluation per block (§2.4) considers only calls whose receiver is literally `self`:
# a method that names its instance `me` keeps both inline calls of `me.quantizer_x_0`.
# e2e: Me() <- torch.randn(3, 4)
# e2e: Self() <- torch.randn(3, 4)
import torch


class Me(torch.nn.Module):
    def forward(me, x):
        return x[0] * x[0]


class Self(torch.nn.Module):
    def forward(self, x):
        return x[0] * x[0]

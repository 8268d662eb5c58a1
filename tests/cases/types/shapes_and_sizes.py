# e2e: Shapes() <- torch.randn(2, 3, 4)
import torch


class Shapes(torch.nn.Module):
    def forward(self, t: torch.Tensor):
        b, c, w = t.shape
        area = c * w + b
        size = t.size()
        last = t.size(-1)
        half = last // 2
        dims = t.dim() - 1
        count = t.numel() * 2
        nd = t.ndim + size[0]
        flat = t.reshape(b, c * w)
        return flat * area + half + dims + count + nd

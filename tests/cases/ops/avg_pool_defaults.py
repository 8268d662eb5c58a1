# The average pools with torch's defaults: stride omitted (the kernel size), and
# divisor_override for 2d and 3d (keyword or seventh argument). Before, stride was required
# and divisor_override unknown: F.avg_pool2d(x, 2) matched no overload and stayed in float.
# e2e: Pools() <- torch.randn(2, 3, 6, 6)
import torch
import torch.nn.functional as F


class Pools(torch.nn.Module):
    def forward(self, x):
        a = F.avg_pool2d(x, 2)
        b = F.avg_pool2d(x, 3, padding=1, divisor_override=4)
        c = F.avg_pool2d(x, 3, None, 1, False, False, 5)
        d = F.avg_pool1d(x[0], kernel_size=3)
        e = F.avg_pool3d(x[None], 2, divisor_override=3)
        return a, b, c, d, e

# Adaptive average pooling (output sizes as ints, tuples, None for "keep") and pixel
# (un)shuffle are table ops: the float calls of torch's nn.AdaptiveAvgPool2d, nn.PixelShuffle
# ... are these, so the classes ffq generates from them get quantizers.
# e2e: Heads() <- torch.randn(2, 8, 6, 4)
import torch
import torch.nn.functional as F


class Heads(torch.nn.Module):
    def forward(self, x):
        a = F.adaptive_avg_pool2d(x, 1)
        b = F.adaptive_avg_pool2d(x, output_size=(3, None))
        c = F.adaptive_avg_pool1d(x.flatten(2), 5)
        d = F.adaptive_avg_pool3d(x[None], (2, 2, 2))
        e = F.pixel_shuffle(x, 2)
        f = F.pixel_unshuffle(x, downscale_factor=2)
        return a, b, c, d, e, f

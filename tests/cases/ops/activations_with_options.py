# torch.nn.functional's other activations are table ops with torch's signatures: options by
# keyword or position, in-place forms, defaults. torch's modules call them (nn.LeakyReLU,
# nn.ReLU6 through hardtanh, nn.Hardswish, ...), and transformers' GELU in Python uses erf.
# e2e: Acts() <- torch.randn(2, 6) * 4
import math

import torch
import torch.nn.functional as F


class Acts(torch.nn.Module):
    def forward(self, x):
        a = F.leaky_relu(x, 0.2)
        b = F.leaky_relu(x * 1.0, negative_slope=0.1, inplace=True)
        c = F.hardtanh(x, 0.0, 6.0)
        d = F.relu6(x)
        e = F.elu(x, alpha=0.5)
        f = F.hardswish(x)
        g = F.hardsigmoid(x, inplace=False)
        h = F.mish(x)
        i = F.softplus(x, beta=2, threshold=1.5)
        j = F.glu(x, dim=-1)
        k = x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
        return a, b, c, d, e, f, g, h, i, j, k

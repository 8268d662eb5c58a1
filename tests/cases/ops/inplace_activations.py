# torch.nn.functional's relu and silu take `inplace` (by keyword or as their second
# argument): such calls are table ops too. The quantized op hands `inplace` on to torch, so
# with stubs the tensor is changed in place as in the float model; a QuantizedTensor input
# is dequantized first, and the change lands on that copy. torch.relu has no `inplace`.
# e2e: Acts() <- torch.randn(2, 4), torch.randn(2, 4)
import torch
import torch.nn.functional as F


class Acts(torch.nn.Module):
    def forward(self, x, y):
        h = x * 2.0
        a = F.silu(h, inplace=True)
        g = y * 3.0
        b = F.relu(g, True)
        c = F.relu(x, inplace=False)
        d = F.silu(y, False)
        e = torch.relu(a)
        return a, b, c, d, e, h, g

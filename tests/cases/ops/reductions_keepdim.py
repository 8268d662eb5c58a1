# torch.sum, torch.mean and torch.cumsum with torch's whole signature: keepdim (by keyword or
# position), a tuple of dims, the keyword-only dtype, NumPy's axis / keepdims. Each is a
# table op (before, any call past sum(input, dim) stayed in float with a [no-overload] note).
# e2e: Reduce() <- torch.randn(2, 3, 4)
import torch


class Reduce(torch.nn.Module):
    def forward(self, x):
        a = torch.sum(x, -1, keepdim=True)
        b = torch.sum(x, (1, 2), True)
        c = torch.sum(x, dtype=torch.float64)
        d = torch.mean(x, -1, True)
        e = torch.mean(x, dim=(0, 2), keepdim=False, dtype=torch.float64)
        f = torch.mean(x, axis=1, keepdims=True)
        g = torch.cumsum(x, 1, dtype=torch.float64)
        h = torch.mean(x)
        return a, b, c, d, e, f, g, h

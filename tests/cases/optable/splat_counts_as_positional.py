# For overload selection a `*args` or a `**kwargs` counts as one positional argument (§6.3):
# `F.softmax(x, **opts)` binds opts to dim and matches softmax(input, dim, dtype=None);
# `torch.add(x, y, **opts)` binds it to alpha. The splat itself is never quantized: in a
# quantized slot (`torch.relu(*xs)`) it is passed as it is. `torch.add(*xs)` leaves `other`
# unbound and stays in float.
# e2e: Splats() <- torch.randn(2, 4), torch.randn(2, 4)
import torch
import torch.nn.functional as F


class Splats(torch.nn.Module):
    def forward(self, x, y):
        opts = {"dim": -1}
        a = F.softmax(x, **opts)
        b = torch.add(x, y, **{"alpha": 2})
        xs = [a, b]
        c = torch.relu(*xs[:1])
        d = torch.add(*xs)
        return a, b, c, d

# torch.stack, torch.clamp (torch.clip), torch.nn.functional.normalize and torch.cat's
# aliases torch.concat / torch.concatenate (NumPy's axis) are table ops, in torch's forms.
# e2e: Mix() <- torch.randn(2, 4), torch.randn(2, 4)
import torch
import torch.nn.functional as F


class Mix(torch.nn.Module):
    def forward(self, x, y):
        a = torch.stack([x, y], dim=1)
        b = torch.stack((x, y))
        c = torch.clamp(x, min=-0.5)
        d = torch.clamp(x, -1.0, 1.0)
        e = torch.clip(x, max=y)
        f = F.normalize(x, dim=-1)
        g = F.normalize(y, p=1.0, dim=0, eps=1e-6)
        h = torch.concat([x, y], dim=-1)
        i = torch.concatenate((x, y), axis=0)
        return a, b, c, d, e, f, g, h, i

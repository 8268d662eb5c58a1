# ffq: --replace '{a} + {b}=>t@FFFF+FFFFFFFFFFFFFh.{b}(-{a}, {b})' --replace '{a} + {b}=>t@FFFF+FFFFFFFFFFFFFh.{b}(-{a}, {b})'
# fuzz_pattern (2026-12-05): the replacement is again an `a + b` and copies {b}
# twice, so each of the 64 rewrites allowed per node doubled the code (minutes,
# gigabytes); now refused with a pattern-growth error.
import torch
import torch.nn.functional as F


class M(torch.nn.Module):
    def forward(self, x, y):
        h = F.linear(x, self.weight, self.bias) + torch.relu(y)
        h = torch.sigmoid(h * 2) if x.dim() == 2 else h @ y
        return torch.cat([h, F.conv2d(x, self.w, stride=2)], dim=1)

# A hoisted expression's variable is its ident (§2.4) unless the function already uses that
# name: a local `self_w` next to `self.w` would be overwritten, and a global `w_T` read
# next to `w.T` would become a local holding the quantized transpose. The variable then
# takes the first free `_1`, `_2`, ...; the quantizer keeps its name.
# e2e: Taken() <- torch.randn(4, 4), torch.randn(4, 4)
import torch

w_T = 0.5


class Taken(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(4, 4))

    def forward(self, x, w):
        self_w = x * 3
        y = torch.add(self_w, self.w)
        z = torch.matmul(y, w.T) * w_T
        return z + self_w

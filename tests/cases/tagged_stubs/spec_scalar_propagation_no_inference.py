# ffq: --stub-tags --no-type-inference --module types.spec_scalar_propagation_no_inference
# types/spec_scalar_propagation_no_inference.py with --stub-tags: each stub says what it quantizes (docs/autoquant.md §3.5).
# e2e: Scalars() <- torch.randn(2, 4), torch.randn(2, 3, 4), torch.randn(2, 4)
import torch


class Scalars(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.num_heads: int = 8
        self.scale: float = 0.125

    def forward(self, q, t, a):
        E: int = q.size(-1)
        x = E * 2
        _r = self.num_heads % 2
        s = self.scale * 2.0
        y = q * s
        b, c, d = t.shape
        w = b * c + d
        u = a.unsqueeze(-1)
        return y, x, _r, w, u

# Classes defined under a condition at module level: when the module has run, the name may
# be an alias of another class (the `if` branch: torch's own LayerNorm), None, or unbound.
# Each quantized class is made only when the name is the class converted here (with two
# definitions of one name, a method's first line tells them apart), so it never
# stands for another float class in quantize_model's map, and the output imports either way.
import torch
from torch import nn

if torch.__version__ >= "2.1":
    LayerNorm = nn.LayerNorm
else:

    class LayerNorm(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim = dim
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            return torch.nn.functional.layer_norm(x, (self.dim,), self.weight) * 2


if torch.__version__ >= "2.1":  # one class per branch, of one name (transformers' xLSTM)

    class Scale(nn.Module):
        def forward(self, x):
            return x + 1

else:

    class Scale(nn.Module):
        @torch.no_grad()
        def forward(self, x):
            return x * 2


try:
    from fused_kernels import fused_gelu

    class FusedGelu(nn.Module):
        def forward(self, x):
            return fused_gelu(x) + x

except ImportError:
    FusedGelu = None


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = LayerNorm(8)
        self.scale = Scale()

    def forward(self, x):
        return self.scale(torch.relu(self.norm(x))) + x

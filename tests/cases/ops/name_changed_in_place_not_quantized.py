# A local value changed in place after its name is bound (by a tensor method or an item
# assignment) gets no quantizer of its own, wherever ops read it: quantized, it would be a
# QuantizedTensor, which cannot be changed in place. Here a DETR-style sine table
# (`dim_t //= 2` then `dim_t.mul_(...)`: the floor division stays float too), a product
# scaled slice by slice, and a buffer filled in a loop whose in-place call comes first in
# the text but runs again after the rebinding. Parameters are quantized at the top of the
# body as FF does, whatever the body does to them.
# e2e: SineTable() <- torch.randn(3, 5), torch.rand(1) + 0.5
import torch


class SineTable(torch.nn.Module):
    def __init__(self, dim: int = 8):
        super().__init__()
        self.dim = dim

    def forward(self, x, scale):
        dim_t = torch.arange(self.dim, dtype=torch.float32)
        dim_t //= 2
        dim_t.mul_(2 / self.dim)
        dim_t.copy_(10000 ** dim_t)
        acc = torch.zeros_like(x)
        for _ in range(2):
            acc.add_(x)
            acc = acc * 0.5
        scaled = x * scale
        scaled[..., :2] *= 0.5
        return x[..., None] / dim_t * scale + acc[..., None] + scaled[..., None]

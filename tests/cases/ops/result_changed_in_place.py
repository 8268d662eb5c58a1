# A table op whose result is later changed in place by a tensor method (an accumulator
# filled with index_add_, a buffer filled with masked_fill_) stays in float with a note:
# quantized, it would be a QuantizedTensor, which in-place methods cannot change, on a grid
# calibrated on its initial zeros. The same op elsewhere is quantized as usual. Nor does the
# name get a quantizer of its own before the change (`out` is read by `out * mask`): only
# after it, where the last change is part of the assignment (`mask = mask.masked_fill_(...)`).
# e2e: MoE() <- torch.randn(5, 4), torch.tensor([0, 1, 1, 0, 1])
import torch


class MoE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.experts = torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(2)])

    def forward(self, x, idx):
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            rows = (idx == e).nonzero().squeeze(-1)
            out.index_add_(0, rows, expert(x[rows]))
        mask = torch.zeros_like(x)
        mask = mask.masked_fill_(x > 0, 1.0)
        return out * mask + torch.zeros_like(x)

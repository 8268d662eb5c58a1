# An in-place method called on an element or slice of a local (`b[n:2 * n].zero_()`:
# torchvision's Swin V2 zeroing the middle third of its cloned qkv bias) changes the local,
# as `b[n:2 * n] = 0` does: the op that bound it stays in float with a note, a copy of a
# name (`c = bias.clone()`, whose value the name's quantizer may have made a QuantizedTensor)
# is dequantized after it, and neither gets a quantizer of its own before the change (a
# QuantizedTensor takes no in-place change).
# e2e: Bias() <- torch.randn(2, 3, 6), torch.randn(6)
import torch


class Bias(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(6, 6))
        self.b = torch.nn.Parameter(torch.randn(6))

    def forward(self, x, bias):
        b = self.b * 2
        n = b.numel() // 3
        b[n : 2 * n].zero_()
        c = bias.clone()
        c[:n][0].fill_(1.0)
        y = torch.nn.functional.linear(x, self.w, b) + torch.nn.functional.linear(x, self.w, c)
        return y * 3

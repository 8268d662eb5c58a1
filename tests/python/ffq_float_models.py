"""Float models used by the runtime tests; ffq_quantized_models.py quantizes them by hand,
in the exact shape of ffq's output."""

import torch
import torch.nn.functional as F


def residual(x, y):
    return x + y


class MyLinear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.linear(input, self.weight, self.bias)


class ConvBlock(torch.nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.conv.weight, self.conv.bias, padding=1)
        y = F.relu(y)
        return residual(x, y)


class TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList([ConvBlock(4), ConvBlock(4)])
        self.head = MyLinear(32, 5)
        self.scale = 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        for block in self.blocks:
            x = block(x)
        x = F.max_pool2d(x, 2)
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = torch.cat([x, -x], dim=1)
        x = F.avg_pool2d(x, 4, 4)
        h = self.head(x.reshape(n, -1))
        h = F.gelu(h) * self.scale
        h = h**2 / (1 + h.abs())
        h = F.layer_norm(h, (5,))
        k = n - 1
        return F.softmax(h, dim=-1) + k

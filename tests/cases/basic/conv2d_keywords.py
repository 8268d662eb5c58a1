# e2e: Conv(4, 8, 3) <- torch.randn(2, 4, 8, 8)
# e2e: Conv(4, 8, 3, stride=2, bias=False) <- torch.randn(1, 4, 9, 9)
import torch
import torch.nn.functional as F


class Conv(torch.nn.Conv2d):
    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=1)

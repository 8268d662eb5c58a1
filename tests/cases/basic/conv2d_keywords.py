import torch
import torch.nn.functional as F


class Conv(torch.nn.Conv2d):
    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=1)

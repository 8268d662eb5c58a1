# optable: tables/intermediate.yaml
import torch
import my_ops


class Fused(torch.nn.Module):
    def forward(self, x, y):
        return my_ops.fused(x, y)

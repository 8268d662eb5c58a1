# ffq: --replace '{a} + {a}=>{a} * 2'
import torch


class M(torch.nn.Module):
    def forward(self, x):
        return x + x

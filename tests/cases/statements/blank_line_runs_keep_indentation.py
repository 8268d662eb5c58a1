# e2e: Gaps() <- torch.randn(2, 4)
import torch
from torch import nn


class Gaps(nn.Module):
    # Runs of blank lines (some holding only white space) between statements of a rewritten
    # block shrink to one blank line; the next statement keeps its indentation.
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        x = self.proj(x)


        y = x * 2
    

  	
        # a comment after blank lines



        return x + y

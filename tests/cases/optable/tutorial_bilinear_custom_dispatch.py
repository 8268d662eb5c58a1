# ffq: --module __main__
# optable: tables/bilinear.yaml
# e2e: skip the dispatch function my_quantized_bilinear is not defined
import torch
import torch.nn.functional as F


# This example seems similar to
# the first Linear example
class MyBilinear(torch.nn.Bilinear):
    def forward(self, input1: torch.Tensor, input2: torch.Tensor) -> torch.Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

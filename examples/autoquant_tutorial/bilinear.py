"""The autoquant tutorial: F.bilinear is not in the operator table: the generated class calls it unchanged.

    python3 examples/autoquant_tutorial/bilinear.py

writes quantized.py in the current directory and prints it (with ffq installed, or with
PYTHONPATH=runtime/python after ./scripts/demo has built ffq).
"""
import torch
import torch.nn.functional as F
import fastforward as ff

# This example seems similar to
# the first Linear example
class MyBilinear(torch.nn.Bilinear):
    def forward(self, input1: torch.Tensor, input2: torch.Tensor) -> torch.Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

model = MyBilinear(10, 10, 10)
ff.autoquantize(model, output_path="quantized.py", use_type_inference=False, force_overwrite=True)
print(open("quantized.py").read())

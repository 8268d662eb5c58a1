"""The autoquant tutorial: Basic usage: a Linear subclass with its own forward.

    python3 examples/autoquant_tutorial/basic.py

writes quantized.py in the current directory and prints it (with ffq installed, or with
PYTHONPATH=runtime/python after ./scripts/demo has built ffq).
"""
import torch
import torch.nn.functional as F
import fastforward as ff

# Creating a custom linear layer because
# autoquant ignores known modules such
# as torch.nn.Linear
class MyLinear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.linear(input, self.weight, self.bias)

# Initialize model and call autoquant
model = MyLinear(10, 10)
ff.autoquantize(
    model,
    output_path="quantized.py", # Write the output to quantized.py
    use_type_inference=False, # Do not use type inference
    force_overwrite=True,
)
print(open("quantized.py").read())

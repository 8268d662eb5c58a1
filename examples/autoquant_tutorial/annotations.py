"""The autoquant tutorial: With an annotation (y: list[int]) and type inference, y stays plain Python.

    python3 examples/autoquant_tutorial/annotations.py

writes quantized.py in the current directory and prints it (with ffq installed, or with
PYTHONPATH=runtime/python after ./scripts/demo has built ffq).
"""
import torch
import torch.nn.functional as F
import fastforward as ff

# helper function called from module
def helper(x: torch.Tensor, y: list[int]):
    y = y + y
    for y_ in y:
        x = x + y_
    return x

class MyModuleWithHelper(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return helper(x, [2])

model = MyModuleWithHelper()
ff.autoquantize(model, output_path="quantized.py", use_type_inference=True, force_overwrite=True)
print(open("quantized.py").read())

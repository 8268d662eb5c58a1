"""The autoquant tutorial: Helper functions: helpers called from forward get quantized variants.

    python3 examples/autoquant_tutorial/helpers.py

writes quantized.py in the current directory and prints it (with ffq installed, or with
PYTHONPATH=runtime/python after ./scripts/demo has built ffq).
"""
import torch
import fastforward as ff

# helper function that uses a helper
# itself
def helper(x, y):
    return inner_helper(x, y) + inner_helper(y, x)

def inner_helper(x, y):
    return x - y

class MyModuleWithHelper(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return helper(x, y)

model = MyModuleWithHelper()
ff.autoquantize(model, output_path="quantized.py", use_type_inference=False, force_overwrite=True)
print(open("quantized.py").read())

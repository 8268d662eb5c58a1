"""The autoquant tutorial: auto_import=True: the generated module, imported and ready for quantize_model.

    python3 examples/autoquant_tutorial/auto_import.py

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
generated = ff.autoquantize(
    model,
    output_path="quantized.py", # Write the output to quantized.py
    use_type_inference=False, # Do not use type inference
    force_overwrite=True,
    auto_import=True,
)

assert generated.__name__ == "quantized", generated
quantized_model = ff.quantize_model(MyLinear(10, 10))
assert type(quantized_model) is generated.QuantizedMyLinear, type(quantized_model)
x = torch.randn(3, 10)
with ff.strict_quantization(False):
    assert torch.equal(quantized_model(x), F.linear(x, quantized_model.weight, quantized_model.bias))
print("auto_import ok")
print(open("quantized.py").read())

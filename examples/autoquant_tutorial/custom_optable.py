"""The autoquant tutorial: A custom operator table entry (OperatorTable.add) makes bilinear quantizable.

    python3 examples/autoquant_tutorial/custom_optable.py

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

import fastforward as ff
from fastforward.autoquant import OperatorTable, optable

def my_quantized_bilinear(
    input1: torch.Tensor,
    input2: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> torch.Tensor: ...

custom_optable = OperatorTable.from_yaml(alias_extensions=optable.STR_ALIASES_EXTENSIONS)
custom_schema = (
    "bilinear(input1: Quantized, input2: Quantized, "
    "weight: Quantized, bias: Optional[MaybeQuantized] = None) -> Quantized"
)
custom_optable.add(custom_schema, torch.nn.functional.bilinear, dispatch_op=my_quantized_bilinear)

ff.autoquantize(
    model,
    output_path="quantized.py",
    use_type_inference=False,
    force_overwrite=True,
    operator_table=custom_optable,
)
print(open("quantized.py").read())

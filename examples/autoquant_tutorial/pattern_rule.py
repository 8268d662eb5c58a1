"""The autoquant tutorial: A PatternRule rewrites calls before autoquant analyses them.

    python3 examples/autoquant_tutorial/pattern_rule.py

writes quantized.py in the current directory and prints it (with ffq installed, or with
PYTHONPATH=runtime/python after ./scripts/demo has built ffq).
"""
import torch
import fastforward as ff
import fastforward.autoquant as autoquant

class ExampleModule1B(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.nn.functional.conv2d(x, x)
        return torch.nn.functional.linear(y, y)

module = ExampleModule1B()
rule = ff.autoquant.PatternRule.from_str(
    pattern="torch.nn.functional.{func}({a}, {b})",
    replacement="my_own.{func}({a}, {b})",
)
ff.autoquantize(module, output_path="quantized.py", use_type_inference=False, force_overwrite=True,
                replacement_patterns=[rule])
print(open("quantized.py").read())

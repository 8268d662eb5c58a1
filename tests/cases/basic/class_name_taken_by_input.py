# A generated class name already taken in the output gets _1, _2, ... (§4.3): here the
# input's own QuantizedFoo, which the output imports as the base of QuantizedQuantizedFoo,
# so the class generated for Foo is QuantizedFoo_1. `Foo.twice(x)` in Foo's methods calls
# that class (§1.3), under its final name.
# e2e: Foo() <- torch.randn(2)
# e2e: QuantizedFoo() <- torch.randn(2)
import torch


class Foo(torch.nn.Module):
    @staticmethod
    def twice(x):
        return x * 2

    def forward(self, x):
        return Foo.twice(x) + 1


class QuantizedFoo(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)

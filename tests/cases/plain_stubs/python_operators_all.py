# ffq: --no-stub-tags --module optable.python_operators_all
# optable/python_operators_all.py with plain stubs: the expectation is FastForward's form, QuantizerStub().
# e2e: AllOperators() <- torch.tensor([7]), torch.tensor([2])
import torch


class AllOperators(torch.nn.Module):
    def forward(self, a, b):
        r = [
            a + b, a - b, a * b, a / b, a // b, a % b, a ** b, a @ b,
            a << b, a >> b, a & b, a | b, a ^ b, ~a, -a, +a,
        ]
        # comparisons, `not`, `and`/`or` are never rewritten
        c = a < b
        d = not a
        e = a and b
        return r, c, d, e

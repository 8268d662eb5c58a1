# A helper passed as a value (to a trampoline such as handle_torch_function, or to a
# higher-order function) is passed as functools.partial(quantized_<helper>, <quantizers>),
# so whoever calls it runs the quantized helper with its own quantizers; inside the helper
# itself the partial passes its own quantizer parameters. A helper without quantizers, and
# other uses of the name (helper.__name__), keep the float function. The helper's parameter
# quantizers go after torch's dispatch guard (`if has_torch_function...: return
# handle_torch_function(...)`): quantized before it, the guard would see QuantizedTensors
# and hand the call back to the helper forever.
# e2e: Net() <- torch.randn(2, 4)
import torch


def self_ref_op(x):
    if torch.overrides.has_torch_function_unary(x):
        return torch.overrides.handle_torch_function(self_ref_op, (x,), x)
    return x * 2


def squash(x):
    return torch.sigmoid(x) * x


def plain(x):
    return x


def apply(f, x, *, post=None):
    y = f(x)
    return post(y) if post is not None else y


class Net(torch.nn.Module):
    def forward(self, x):
        a = apply(squash, x, post=plain)
        b = apply(plain, x, post=squash)
        c = self_ref_op(x)
        name = squash.__name__
        return a + b + c + len(name)

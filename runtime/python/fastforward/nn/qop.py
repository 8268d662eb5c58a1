"""``QOp``: any tensor function as a module with an output quantizer (TorchQuant's ``QOp``).

``QOp(torch.add, output_quantizer=LinearQuantizer(8))`` dequantizes ``QuantizedTensor``
arguments, calls the function and quantizes the result with its ``output_quantizer`` slot
(tagged ``activation/output``; a stub when none is given), like the ops of
``fastforward.nn.functional``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from fastforward.nn.quantized_module import QuantizedModule
from fastforward.nn.quantizer import Quantizer, QuantizerStub
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["QOp"]


def _dq(value: Any) -> Any:
    if isinstance(value, QuantizedTensor):
        return value.dequantize()
    if isinstance(value, (list, tuple)):
        return type(value)(_dq(v) for v in value)
    return value


class QOp(QuantizedModule):
    """A tensor function with an output quantizer."""

    def __init__(self, fn: Callable[..., Any], output_quantizer: Optional[Quantizer] = None) -> None:
        super().__init__()
        if not callable(fn):
            raise TypeError("QOp needs a callable, got %r" % (fn,))
        self.fn = fn
        self.__dict__["_initial_output_quantizer"] = output_quantizer

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.output_quantizer = QuantizerStub(output_quantizer=True)
        given = self.__dict__.pop("_initial_output_quantizer", None)
        if given is not None:
            self.output_quantizer = given

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        result = self.fn(*_dq(args), **{k: _dq(v) for k, v in kwargs.items()})
        return self.output_quantizer(result)

    def extra_repr(self) -> str:
        return "fn=%s" % getattr(self.fn, "__qualname__", repr(self.fn))

"""Built-in dispatcher kernels for per-tensor static affine QuantizedTensors: shape and
indexing ops run on the raw data and keep the quantization context (one scale and offset
cover any shape, so nothing else changes)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from fastforward import dispatcher
from fastforward.quantization.affine._affine import AffineQuantizationFunction, StaticAffineQuantParams
from fastforward.quantization.function import QuantizationContext
from fastforward.quantization.granularity import PerTensor
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["SHAPE_OPS"]

SHAPE_OPS = (
    "view", "view_as", "reshape", "reshape_as", "transpose", "t", "permute", "expand",
    "expand_as", "__getitem__", "unsqueeze", "squeeze", "flatten", "unflatten", "narrow",
    "select", "split", "chunk", "unbind", "flip", "movedim", "T", "mT",
)


def is_per_tensor_affine(*args: Any, **kwargs: Any) -> bool:
    """Whether the first argument is a QuantizedTensor with static per-tensor affine params."""
    if not args or not isinstance(args[0], QuantizedTensor):
        return False
    context = args[0].quantization_context
    return (
        isinstance(context, QuantizationContext)
        and context.quantization_fn is AffineQuantizationFunction
        and isinstance(context.quantization_params, StaticAffineQuantParams)
        and isinstance(context.quantization_params.granularity, PerTensor)
    )


def _rewrap(value: Any, context: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return QuantizedTensor(value, context)
    if isinstance(value, (tuple, list)):
        return type(value)(_rewrap(v, context) for v in value)
    return value


def _shape_kernel(name: str) -> Callable[..., Any]:
    attr = getattr(torch.Tensor, name)
    getter = getattr(attr, "__get__", None) if isinstance(attr, property) or not callable(attr) else None

    def kernel(self: QuantizedTensor, *args: Any, **kwargs: Any) -> Any:
        if name == "view" and args and isinstance(args[0], torch.dtype):
            raise TypeError("view(dtype) would reinterpret the raw data of a QuantizedTensor")
        raw = self.raw_data
        if getter is not None:
            result = getter(raw)
        else:
            args = tuple(a.raw_data if isinstance(a, QuantizedTensor) else a for a in args)
            result = attr(raw, *args, **kwargs)
        return _rewrap(result, self.quantization_context)

    kernel.__name__ = "per_tensor_" + name.strip("_")
    return kernel


for _name in SHAPE_OPS:
    if hasattr(torch.Tensor, _name):
        dispatcher.register(_name, is_per_tensor_affine, _shape_kernel(_name))

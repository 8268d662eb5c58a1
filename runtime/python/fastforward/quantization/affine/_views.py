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


# --- mul by a number and cat of equally parameterised tensors ------------------------------------


def _is_static_affine(value: Any) -> bool:
    if not isinstance(value, QuantizedTensor):
        return False
    context = value.quantization_context
    return (
        isinstance(context, QuantizationContext)
        and context.quantization_fn is AffineQuantizationFunction
        and isinstance(context.quantization_params, StaticAffineQuantParams)
    )


def _no_output_quantizer(kwargs: Any) -> bool:
    quantizer = kwargs.get("output_quantizer")
    return quantizer is None or bool(getattr(quantizer, "is_stub", lambda: False)())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mul_operands(args: Any, kwargs: Any) -> Any:
    """(quantized tensor, number) of a mul call in torch or functional form, or None."""
    a = args[0] if len(args) > 0 else kwargs.get("input")
    b = args[1] if len(args) > 1 else kwargs.get("other")
    return (a, b) if _is_static_affine(a) and _is_number(b) else None


def _mul_by_number_applies(*args: Any, **kwargs: Any) -> bool:
    return _mul_operands(args, kwargs) is not None and _no_output_quantizer(kwargs)


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, raw: torch.Tensor, factor: float) -> torch.Tensor:  # type: ignore[override]
        ctx.factor = factor
        return raw.view_as(raw)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        return grad * ctx.factor, None


def mul_by_number(*args: Any, **kwargs: Any) -> QuantizedTensor:
    """``qt * c``: the same raw data with the scale multiplied by ``c``."""
    qt, factor = _mul_operands(args, kwargs)
    params = qt.quantization_context.quantization_params
    raw = qt.raw_data
    if torch.is_grad_enabled() and raw.requires_grad:
        raw = _ScaleGrad.apply(raw, float(factor))
    context = QuantizationContext(AffineQuantizationFunction, params.with_changes(scale=params.scale * factor))
    return QuantizedTensor(raw, context)


def _cat_operands(args: Any, kwargs: Any) -> Any:
    tensors = args[0] if args else kwargs.get("tensors")
    if not isinstance(tensors, (list, tuple)) or not tensors:
        return None
    if not all(is_per_tensor_affine(t) for t in tensors):
        return None
    first = tensors[0].quantization_context.quantization_params
    for t in tensors[1:]:
        p = t.quantization_context.quantization_params
        if p.num_bits != first.num_bits or not _same(p.scale, first.scale) or not _same(p.offset, first.offset):
            return None
    return tensors


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    return bool(torch.equal(torch.as_tensor(a), torch.as_tensor(b)))


def _cat_applies(*args: Any, **kwargs: Any) -> bool:
    return _cat_operands(args, kwargs) is not None and _no_output_quantizer(kwargs)


def cat_same_parameters(*args: Any, **kwargs: Any) -> QuantizedTensor:
    """``cat`` of per-tensor tensors sharing scale and offset: concatenated raw data."""
    tensors = _cat_operands(args, kwargs)
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    raw = torch.cat([t.raw_data for t in tensors], dim)
    return QuantizedTensor(raw, tensors[0].quantization_context)


dispatcher.register("mul", _mul_by_number_applies, mul_by_number)
dispatcher.register("cat", _cat_applies, cat_same_parameters)

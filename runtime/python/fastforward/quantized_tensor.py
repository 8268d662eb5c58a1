"""QuantizedTensor: raw quantized data plus the quantization context that gives it meaning.

The tensor's own storage is the raw data (integer values, by default in the input's float
dtype); the context is a ``QuantizationContext`` or a ``BoundQuantizationFunction``
(``fastforward.quantization.function``). ``dequantize()`` gives the real values.

Torch operations on a QuantizedTensor go through ``__torch_function__``: metadata and
autograd bookkeeping run on the raw storage; everything else asks the dispatcher
(``fastforward.dispatcher``) for a kernel and, when there is none, dequantizes every
quantized argument and runs the float op, unless strict quantization is on (the default),
which makes that implicit dequantization a ``QuantizationError`` naming the op.
"""

from __future__ import annotations

import copy
import functools
import types
import warnings
from typing import Any, Callable, Dict, Optional

import torch

from fastforward import dispatcher
from fastforward.common import safe_for_torch_load
from fastforward.dispatcher import DispatcherPriority
from fastforward.exceptions import QuantizationError
from fastforward.flags import get_strict_quantization

__all__ = ["QuantizedTensor", "apply_and_reattach", "dequantize"]

# torch >= 2.0 disables subclass handling only; torch 1.13 has the older, global switch.
_DisableSubclass = getattr(torch._C, "DisableTorchFunctionSubclass", None) or torch._C.DisableTorchFunction

# Ops that run torch's own implementation on the raw storage (never dispatched).
_NO_DISPATCH = {
    "shape", "size", "dim", "ndim", "ndimension", "numel", "nelement", "dtype", "device",
    "get_device", "layout", "requires_grad", "requires_grad_", "grad", "grad_fn", "backward",
    "register_hook", "retain_grad", "is_leaf", "output_nr", "data_ptr", "storage",
    "storage_offset", "untyped_storage", "_typed_storage", "storage_type", "pin_memory",
    "record_stream", "as_subclass", "__repr__", "__setstate__", "__dir__", "name", "indices",
    "sparse_dim", "sparse_mask", "_grad", "_base", "_version", "_cdata", "_grad_fn",
    "_backward_hooks", "_post_accumulate_grad_hooks", "__reduce_ex__", "__format__",
    "names", "has_names", "refine_names", "stride", "element_size", "itemsize", "nbytes",
    "_is_view", "is_contiguous", "__len__", "__class__",
    "__hash__",
}


_DTYPE = torch.Tensor.dtype  # the storage dtype's descriptor (QuantizedTensor.dtype wraps it)


def _op_name(func: Callable) -> str:
    name = getattr(func, "__name__", "") or ""
    if name in ("__get__", "__set__", "__delete__"):
        owner = getattr(func, "__self__", None)
        name = getattr(owner, "__name__", name)
    return name


def _python_function(func: Callable) -> bool:
    """A function defined in Python (not one of torch's built-in operators)."""
    target = func.func if isinstance(func, functools.partial) else func
    return isinstance(target, (types.FunctionType, types.MethodType))


def _quantizes_its_inputs(func: Callable) -> bool:
    """A quantized helper as generated code passes it on (``functools.partial(quantized_f,
    quantizer_x=...)``): it quantizes what it is given, so dequantizing first is no loss."""
    from fastforward.nn.quantizer import Quantizer

    return isinstance(func, functools.partial) and any(isinstance(v, Quantizer) for v in func.keywords.values())


def _no_dispatch(name: str) -> bool:
    return name in _NO_DISPATCH or (name.startswith("is_") and name != "is_quantized")


def _formats_the_value(name: str, args: Any) -> bool:
    """``format(x, spec)`` with a spec (``f"{loss:.4f}"``) formats the value, as torch does
    for a plain 0-d tensor: an implicit dequantization like any other op (plain ``str`` /
    ``f"{x}"`` stays the repr, which needs none)."""
    return name == "__format__" and len(args) > 1 and bool(args[1])


class QuantizedTensor(torch.Tensor):
    """Raw quantized data with its quantization context; ``dequantize()`` gives the real
    values. Built by quantization functions, not usually by hand."""

    _quantization_context: Any

    @staticmethod
    def __new__(cls, data: torch.Tensor, quantization_context: Any) -> "QuantizedTensor":
        if not isinstance(data, torch.Tensor):
            raise TypeError(
                "QuantizedTensor needs a torch.Tensor of raw data, got %s" % type(data).__name__
            )
        if not hasattr(quantization_context, "quant_func"):
            raise TypeError(
                "QuantizedTensor needs a quantization context (QuantizationContext or "
                "BoundQuantizationFunction), got %r" % (quantization_context,)
            )
        with _DisableSubclass():
            if isinstance(data, QuantizedTensor):
                data = data.as_subclass(torch.Tensor)
            # as_subclass shares storage and stays attached to the autograd graph.
            self = data.as_subclass(cls)
        self._quantization_context = quantization_context
        return self

    def __init__(self, data: torch.Tensor, quantization_context: Any) -> None:
        pass  # everything happens in __new__

    # --- access -------------------------------------------------------------------------

    @property
    def dtype(self) -> torch.dtype:  # type: ignore[override]
        """The storage dtype of the raw data, as the quantization function stores them. The
        integer kernels keep results int8 where the function stores floats (no storage dtype
        given: the dtype of the values, float32 here), and report that dtype, so model code
        reading ``x.dtype`` sees what it sees on the simulated path."""
        with _DisableSubclass():
            real = _DTYPE.__get__(self)
        if real is torch.int8:
            params = getattr(self._quantization_context, "quantization_params", None)
            if params is not None and getattr(params, "quantized_dtype", torch.int8) is None:
                return getattr(params, "dequantize_dtype", None) or torch.float32
        return real

    def is_floating_point(self) -> bool:  # type: ignore[override]
        """Whether ``dtype`` is a floating-point dtype."""
        return self.dtype.is_floating_point

    @property
    def raw_data(self) -> torch.Tensor:
        """The raw storage as a plain tensor (same memory, same autograd history)."""
        with _DisableSubclass():
            return self.as_subclass(torch.Tensor)

    def int_repr(self) -> torch.Tensor:  # type: ignore[override]
        """The raw (integer-valued) data; same as ``raw_data``."""
        return self.raw_data

    @property
    def quantization_context(self) -> Any:
        """The quantization context (function and parameters) of this tensor."""
        return self._quantization_context

    @property
    def quant_func(self) -> type:
        """The quantization function class that made this tensor."""
        return self._quantization_context.quant_func

    def quant_args(self) -> Any:
        """The quantization parameters (a dataclass, or QuantArgs for bound functions)."""
        return self._quantization_context.arguments()

    def dequantize(self) -> torch.Tensor:  # type: ignore[override]
        """The real values, as a plain tensor; the gradient w.r.t. the raw data is the
        identity."""
        if not torch.is_grad_enabled():
            codes = _codes_of(self)
            if codes is not None:
                # the int8 codes a kernel or quantizer attached: (q - zp) * s in one C pass,
                # the same single rounding as the simulated path's torch ops on the raw data
                out = _dequantize_codes(codes)
                if out is not None:
                    return out
        return self._quantization_context.dequantize(self.raw_data)

    @property
    def is_quantized(self) -> bool:  # type: ignore[override]
        """Always False (this is not a native torch quantized tensor); warns."""
        warnings.warn(
            "QuantizedTensor.is_quantized is always False; use isinstance(x, QuantizedTensor)",
            UserWarning,
            stacklevel=2,
        )
        return False

    # --- copies and moves ---------------------------------------------------------------

    def _rewrap(self, raw: torch.Tensor, context: Any) -> "QuantizedTensor":
        return QuantizedTensor(raw, context)

    def clone(self, *args: Any, **kwargs: Any) -> "QuantizedTensor":  # type: ignore[override]
        """A copy of the raw data and of every tensor parameter (on the autograd graph)."""
        with _DisableSubclass():
            raw = self.raw_data.clone(*args, **kwargs)
        return self._rewrap(raw, self._quantization_context.clone_parameters())

    def detach(self) -> "QuantizedTensor":  # type: ignore[override]
        """Raw data and tensor parameters detached from the autograd graph."""
        return self._rewrap(self.raw_data.detach(), self._quantization_context.detach_parameters())

    def contiguous(self, memory_format: torch.memory_format = torch.contiguous_format) -> "QuantizedTensor":  # type: ignore[override]
        """Raw data and tensor parameters made contiguous (``self`` when they already are)."""
        raw = self.raw_data
        context = self._quantization_context.contiguous_parameters()
        if raw.is_contiguous(memory_format=memory_format) and context is self._quantization_context:
            return self
        codes = None if torch.is_grad_enabled() else _codes_of(self)
        out = raw.contiguous(memory_format=memory_format)
        result = self._rewrap(out, context)
        if codes is not None and context is self._quantization_context and type(result) is QuantizedTensor:
            # the int8 codes the raw data came with, laid out alike
            q8 = out if codes.q8 is codes.raw else codes.q8.contiguous(memory_format=memory_format)
            try:
                result.__dict__[_CODES] = _Codes(out, q8, context, codes.qp, codes.scale, codes.offset)
            except RuntimeError:  # made under inference_mode: no version counters, no codes
                pass
        return result

    def to(self, *args: Any, **kwargs: Any) -> torch.Tensor:  # type: ignore[override]
        """Device moves keep the tensor quantized; a dtype conversion dequantizes first."""
        if any(isinstance(a, torch.Tensor) for a in args) or "other" in kwargs:
            raise ValueError(
                "QuantizedTensor.to(other_tensor) is not supported; pass a device and/or dtype"
            )
        copy_ = bool(kwargs.pop("copy", False))
        device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*args, **kwargs)
        if dtype is not None:
            return self.dequantize().to(*args, copy=copy_, **kwargs)
        if device is None and memory_format is None and not copy_:
            return self
        move: Dict[str, Any] = {"non_blocking": non_blocking, "copy": copy_}
        if memory_format is not None:
            move["memory_format"] = memory_format
        raw = self.raw_data.to(device if device is not None else self.raw_data.device, **move)
        context = self._quantization_context
        if device is not None:
            context = context.to(device)
        if copy_:  # a copy shares nothing with the original, parameters included
            context = context.clone_parameters()
        return self._rewrap(raw, context)

    def cpu(self) -> torch.Tensor:  # type: ignore[override]
        """Device-only ``to('cpu')``."""
        return self.to("cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> torch.Tensor:  # type: ignore[override]
        """Device-only ``to('cuda')``."""
        target = torch.device("cuda") if device is None else torch.device("cuda", device) if isinstance(device, int) else torch.device(device)
        return self.to(target, non_blocking=non_blocking)

    def __deepcopy__(self, memo: dict) -> "QuantizedTensor":
        # (the tensor itself: its raw_data view of a leaf that requires grad is an alias node)
        if not self.is_leaf:
            raise RuntimeError(
                "Only QuantizedTensors created explicitly by the user (graph leaves) support "
                "the deepcopy protocol at the moment; detach() it first"
            )
        if id(self) in memo:
            return memo[id(self)]
        raw = self.raw_data.detach().clone()
        context = copy.deepcopy(self._quantization_context.detach_parameters(), memo)
        result = QuantizedTensor(raw, context)
        if self.requires_grad:
            result.requires_grad_(True)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (
            _rebuild_quantized_tensor,
            (self.raw_data.detach(), self._quantization_context.detach_parameters()),
        )

    def __repr__(self, **kwargs: Any) -> str:  # type: ignore[override]
        with _DisableSubclass():
            raw = torch.Tensor.__repr__(self.raw_data)
        return "QuantizedTensor(%s, %r)" % (raw, self._quantization_context)

    # In-place operators are not in place: returning NotImplemented makes Python use the
    # out-of-place operator (and its dispatch / strict rules) and rebind the name.
    def _no_in_place(self, other: Any) -> Any:
        return NotImplemented

    __iadd__ = __isub__ = __imul__ = __imatmul__ = __itruediv__ = __ifloordiv__ = _no_in_place  # type: ignore[assignment]
    __imod__ = __ilshift__ = __irshift__ = __iand__ = __ixor__ = __ior__ = __ipow__ = _no_in_place  # type: ignore[assignment]

    # --- every other torch operation ----------------------------------------------------

    @classmethod
    def __torch_function__(cls, func: Callable, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        name = _op_name(func)
        if name == "is_floating_point" and args and isinstance(args[0], QuantizedTensor):
            return args[0].is_floating_point()  # torch.is_floating_point(x): as the method
        with _DisableSubclass():
            if _no_dispatch(name) and not _formats_the_value(name, args):
                return func(*args, **kwargs)
            result = dispatcher.call(name, *args, **kwargs)
            if result is not dispatcher.MISS:
                return result
            if get_strict_quantization() and not _quantizes_its_inputs(func):
                raise QuantizationError(
                    "Implicit dequantization of a QuantizedTensor in %r is forbidden under "
                    "strict quantization. Dequantize explicitly (x.dequantize()), turn strict "
                    "quantization off (fastforward.strict_quantization(False)), or register a "
                    "kernel with fastforward.dispatcher.register(%r, ...)" % (name, name)
                )
            if not _python_function(func):
                return func(*_dequantize_nested(args), **_dequantize_nested(kwargs))
        # A function written in Python reached through torch's protocol (a quantized helper
        # that hands itself to `handle_torch_function`, as torch's attention does): it runs on
        # the real values with torch functions enabled, so the QuantizedTensors its own
        # quantizers make inside behave as QuantizedTensors, not as their raw integers; its
        # `has_torch_function` check sees plain tensors and does not call back here.
        return func(*_dequantize_nested(args), **_dequantize_nested(kwargs))


def _wrap_plain(raw: torch.Tensor, context: Any) -> QuantizedTensor:
    """``QuantizedTensor(raw, context)`` for a plain ``torch.Tensor`` ``raw`` and a context
    the caller made (the hot paths: quantizers, integer kernels), without the checks and
    the subclass switch ``__new__`` needs for arbitrary arguments."""
    self = raw.as_subclass(QuantizedTensor)
    self._quantization_context = context
    return self


class _Codes:
    """The int8 codes of a QuantizedTensor's raw data, attached to it by whoever computed
    both at once (``_CODES`` in its ``__dict__``), with what they depend on: ``raw`` (a
    plain alias of the tensor: same memory and version counter) and ``q8`` with their
    version counters, the context and its parameters, and the values of its one-element
    scale and offset (read through ``fastforward._ffqrt.FloatWatch``es of those tensors).
    ``qp`` is the grid (an ``fastforward._ffqrt.QParam``). Valid while none of these
    changed (``current``)."""

    __slots__ = ("raw", "version", "q8", "q8_version", "context", "params", "qp", "scale", "scale_value",
                 "offset", "offset_value")

    def __init__(self, raw: torch.Tensor, q8: torch.Tensor, context: Any, qp: Any, scale: Any,
                 offset: Any) -> None:
        # scale: a FloatWatch of the context's scale; offset: one of its offset, or None
        # q8 may be an inference tensor (a kernel's output under inference_mode): no version
        # counter, and only this module's callers hold it (it is never handed out to write).
        # When q8 is the raw data itself the codes cannot go stale: no version needed either.
        same = q8 is raw
        version = None if same and raw.is_inference() else raw._version
        q8_version = None if same or q8.is_inference() else q8._version
        self.raw, self.version, self.q8, self.q8_version = raw, version, q8, q8_version
        self.context, self.params, self.qp = context, context.quantization_params, qp
        self.scale, self.scale_value = scale, scale.read()
        self.offset, self.offset_value = offset, None if offset is None else offset.read()

    def current(self, x: QuantizedTensor) -> bool:
        context, params, offset = self.context, self.params, self.offset
        if (x._quantization_context is not context or context.quantization_params is not params
                or (self.version is not None and self.raw._version != self.version)
                or (self.q8_version is not None and self.q8._version != self.q8_version)
                or params.scale is not self.scale.tensor or self.scale.read() != self.scale_value):
            return False
        if offset is None:
            return params.offset is None
        return params.offset is offset.tensor and offset.read() == self.offset_value


_CODES = "_ffq_codes"


_lazy: list = []  # (fastforward._ffqrt, _kernels._zero_point_tensor), imported on first use


def _dequantize_codes(codes: "_Codes") -> Optional[torch.Tensor]:
    if not _lazy:
        from fastforward import _ffqrt
        from fastforward.quantization.affine._kernels import _zero_point_tensor

        _lazy[:] = [_ffqrt, _zero_point_tensor]
    _ffqrt, zero_point_tensor = _lazy
    q8, qp = codes.q8, codes.qp
    zp = None if qp.zero_point == 0 else zero_point_tensor(qp.zero_point)
    if q8.is_contiguous():
        # the grid's own scale (the context's value: the codes are current only while the
        # context's scale holds it), with the values checked in C
        out = _ffqrt.dequantize8_per_tensor(q8, qp.scale_tensor(), zp)
        if out is not None:
            return out
    return _ffqrt.dequantize(q8, tuple(q8.shape), codes.params.scale.detach().reshape(1), zp, 8)


def _codes_of(x: Any) -> Optional[_Codes]:
    """The current codes attached to QuantizedTensor ``x``, or None."""
    d = getattr(x, "__dict__", None)
    codes = None if d is None else d.get(_CODES)
    return codes if codes is not None and codes.current(x) else None


def _rebuild_quantized_tensor(raw: torch.Tensor, context: Any) -> QuantizedTensor:
    return QuantizedTensor(raw, context)


def apply_and_reattach(func: Callable[[torch.Tensor], torch.Tensor], quantized: Optional[QuantizedTensor] = None) -> Any:
    """``func`` applied to the raw data of ``quantized``, rewrapped with the same context;
    without ``quantized``, a function doing that for its argument."""

    def apply(qt: QuantizedTensor) -> QuantizedTensor:
        return QuantizedTensor(func(qt.raw_data), qt.quantization_context)

    return apply if quantized is None else apply(quantized)


def dequantize(value: Any) -> Any:
    """``value.dequantize()`` for a QuantizedTensor; any other value unchanged."""
    if isinstance(value, QuantizedTensor):
        return value.dequantize()
    return value


def _dequantize_nested(value: Any) -> Any:
    if isinstance(value, QuantizedTensor):
        return value.dequantize()
    if isinstance(value, (list, tuple)):
        items = [_dequantize_nested(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {key: _dequantize_nested(item) for key, item in value.items()}
    return value


safe_for_torch_load(QuantizedTensor, _rebuild_quantized_tensor)


# --- built-in kernels ---------------------------------------------------------------------

def _first_quantized(*args: Any, **kwargs: Any) -> bool:
    return bool(args) and isinstance(args[0], QuantizedTensor)


def _make_cast(method: str) -> Callable[..., torch.Tensor]:
    def cast(self: QuantizedTensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return getattr(self.dequantize(), method)(*args, **kwargs)

    cast.__name__ = "dequantize_then_" + method
    return cast


for _method in ("double", "float", "half", "bfloat16", "long", "int", "short", "char",
                "cdouble", "cfloat", "chalf", "bool", "byte"):
    dispatcher.register(_method, _first_quantized, _make_cast(_method))


def _same_shape_view(*args: Any, **kwargs: Any) -> bool:
    if not _first_quantized(*args):
        return False
    self, rest = args[0], list(args[1:]) + list(kwargs.values())
    if len(rest) == 1 and isinstance(rest[0], torch.Tensor):
        return tuple(rest[0].shape) == tuple(self.shape)
    shape = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list, torch.Size)) else rest
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        return False
    shape = tuple(shape)
    if shape.count(-1) == 1 and len(shape) == self.dim():
        # one inferred size (`x.view(n, -1)`, `x.view(-1)`): the same shape when every other
        # size is the tensor's own and the inferred one is what is left, the tensor's too
        i = shape.index(-1)
        size = tuple(self.shape)
        known = size[:i] + size[i + 1:]
        if shape[:i] + shape[i + 1:] == known and 0 not in known:  # (torch refuses -1 beside a 0)
            shape = size
    return shape == tuple(self.shape)


def _view_same_shape(self: QuantizedTensor, *args: Any, **kwargs: Any) -> QuantizedTensor:
    return QuantizedTensor(self.raw_data.view_as(self.raw_data), self.quantization_context)


dispatcher.register("view", _same_shape_view, _view_same_shape, DispatcherPriority.FALLBACK)
dispatcher.register("view_as", _same_shape_view, _view_same_shape, DispatcherPriority.FALLBACK)
dispatcher.register("clone", _first_quantized, lambda self, *a, **k: QuantizedTensor.clone(self, *a, **k))
dispatcher.register("detach", _first_quantized, lambda self: QuantizedTensor.detach(self))


def _not_implemented(name: str) -> Callable[..., Any]:
    def kernel(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "%r is not implemented for QuantizedTensor; register a kernel with "
            "fastforward.dispatcher.register(%r, predicate, kernel)" % (name, name)
        )

    kernel.__name__ = "not_implemented_" + name.strip("_")
    return kernel


_IN_PLACE = sorted(
    n for n in dir(torch.Tensor)
    if n.endswith("_") and not n.endswith("__") and not n.startswith("_") and n != "requires_grad_"
)
for _name in ["__getitem__", "__setitem__", "__reversed__", "_autocast_to_full_precision",
              "_autocast_to_reduced_precision"] + _IN_PLACE:
    dispatcher.register(_name, _first_quantized, _not_implemented(_name),
                        DispatcherPriority.NOT_IMPLEMENTED_FALLBACK)

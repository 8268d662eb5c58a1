"""Quantization functions: static classes that turn float data into a QuantizedTensor and back.

Two styles share one base class, ``QuantizationFunction``:

* **Bound-argument style** (the custom-quantizer tutorial): a subclass defines two
  *staticmethods* ``quantize(data, **params) -> raw`` and ``dequantize(raw, **params)``.
  ``Cls.apply(data, **params)`` quantizes; ``Cls.bind(**params)`` returns a
  ``BoundQuantizationFunction`` (binding follows ``dequantize``'s signature). Gradients
  are those of ``dequantize(quantize(x))``: the raw tensor carries an autograd node that
  back-propagates through ``dequantize`` (see ``_DequantizeBackward``), and
  ``QuantizedTensor.dequantize()`` itself is a straight-through identity.
* **Context style**: a subclass defines *classmethods* ``quantize(cls, data, params)``
  returning a QuantizedTensor and ``dequantize(cls, raw, params)``; tensors carry a
  ``QuantizationContext(quantization_fn, quantization_params)``.

``QuantizationAutogradFunction`` is the bound style with an explicit backward for the
whole quantize-dequantize: staticmethods ``quantize(ctx, data, *params)``,
``dequantize(raw, *params)`` and ``quant_dequant_backward(ctx, grad)``.
"""

from __future__ import annotations

import dataclasses
import inspect
import weakref
from collections.abc import Mapping
from typing import Any, Callable, Dict, Generic, Iterator, List, Optional, Tuple, Type, TypeVar

import torch

from fastforward.common import safe_for_torch_load
from fastforward.flags import get_export_mode

__all__ = [
    "BaseQuantizationFunction",
    "BoundQuantizationFunction",
    "QuantArgs",
    "QuantizationAutogradFunction",
    "QuantizationContext",
    "QuantizationFunction",
    "QuantizationParameters",
    "create_quantization_function",
]


# --- parameters and contexts (context style) ---------------------------------------------


@dataclasses.dataclass
class QuantizationParameters:
    """Base class of the parameter records of context-style quantization functions."""

    def with_changes(self, **changes: Any) -> "QuantizationParameters":
        """A copy with the given fields replaced."""
        return dataclasses.replace(self, **changes)

    def _map_tensors(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> "QuantizationParameters":
        changes = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, torch.Tensor):
                changes[field.name] = fn(value)
        return dataclasses.replace(self, **changes) if changes else self


def _tensor_fields(params: Any) -> Iterator[torch.Tensor]:
    if dataclasses.is_dataclass(params):
        for field in dataclasses.fields(params):
            value = getattr(params, field.name)
            if isinstance(value, torch.Tensor):
                yield value


_Params = TypeVar("_Params")  # the parameters type of a function / context (generic, as FF's)


@dataclasses.dataclass(frozen=True)
class QuantizationContext(Generic[_Params]):
    """A context-style quantization function together with its parameters."""

    quantization_fn: Type["QuantizationFunction"]
    quantization_params: Any

    # Names shared with BoundQuantizationFunction, so QuantizedTensor treats both alike.
    @property
    def quant_func(self) -> Type["QuantizationFunction"]:
        return self.quantization_fn

    def arguments(self) -> Any:
        return self.quantization_params

    def with_changes(
        self, quantization_fn: Optional[Type["QuantizationFunction"]] = None, **param_changes: Any
    ) -> "QuantizationContext":
        """A new context with the function and/or some parameters replaced."""
        params = self.quantization_params
        if param_changes:
            params = dataclasses.replace(params, **param_changes)
        return QuantizationContext(quantization_fn or self.quantization_fn, params)

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> "QuantizationContext":
        params = self.quantization_params
        if isinstance(params, QuantizationParameters):
            params = params._map_tensors(fn)
        return QuantizationContext(self.quantization_fn, params)

    def clone_parameters(self) -> "QuantizationContext":
        return self._map(lambda t: t.clone())

    def detach_parameters(self) -> "QuantizationContext":
        return self._map(lambda t: t.detach())

    def to(self, device: Any) -> "QuantizationContext":
        return self._map(lambda t: t.to(device))

    def contiguous_parameters(self) -> "QuantizationContext":
        if all(t.is_contiguous() for t in _tensor_fields(self.quantization_params)):
            return self
        return self._map(lambda t: t.contiguous())

    def attach(self, data: torch.Tensor) -> torch.Tensor:
        """``data`` (raw values) as a QuantizedTensor with this context (in export mode:
        the dequantized plain tensor)."""
        from fastforward.quantized_tensor import QuantizedTensor

        if get_export_mode():
            return self.dequantize(data)
        return QuantizedTensor(data, self)

    def dequantize(self, raw: torch.Tensor) -> torch.Tensor:
        return self.quantization_fn.dequantize(raw, self.quantization_params)

    def __repr__(self) -> str:
        return "%s(%r)" % (self.quantization_fn.__name__, self.quantization_params)


# --- bound-argument style ------------------------------------------------------------------


class QuantArgs(Mapping):
    """Argument name -> value, with attribute access; only existing names can be set."""

    def __init__(self, **kwargs: Any) -> None:
        object.__setattr__(self, "_values", dict(kwargs))

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise AttributeError("QuantArgs has no argument %r" % name)
        self._values[name] = value

    def __repr__(self) -> str:
        return "QuantArgs(%s)" % ", ".join("%s=%r" % item for item in self._values.items())


def _dequantize_signature(quant_func: type) -> inspect.Signature:
    sig = inspect.signature(quant_func.dequantize)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


_QUANTIZE_NAMES: "weakref.WeakKeyDictionary[type, Tuple[frozenset, bool, frozenset]]" = weakref.WeakKeyDictionary()


def _quantize_names(quant_func: type) -> Tuple[frozenset, bool, frozenset]:
    """The names ``quant_func.quantize`` takes after the data, whether it takes ``**kwargs``,
    and ``dequantize``'s keyword-only names (looked up once per function class)."""
    known = _QUANTIZE_NAMES.get(quant_func)
    if known is not None:
        return known
    params = list(inspect.signature(quant_func.quantize).parameters.values())[1:]
    named = frozenset(p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                             inspect.Parameter.KEYWORD_ONLY))
    any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    keyword_only = frozenset(name for name, p in _dequantize_signature(quant_func).parameters.items()
                             if p.kind is inspect.Parameter.KEYWORD_ONLY)
    _QUANTIZE_NAMES[quant_func] = (named, any_keyword, keyword_only)
    return named, any_keyword, keyword_only


class BoundQuantizationFunction:
    """A bound-style quantization function with its arguments bound; also the context of
    the QuantizedTensors it makes."""

    def __init__(self, quant_func: Type["QuantizationFunction"], *args: Any, **kwargs: Any) -> None:
        bound = _dequantize_signature(quant_func).bind(*args, **kwargs)
        self.quant_func = quant_func
        self._arguments: Dict[str, Any] = dict(bound.arguments)

    @classmethod
    def _from_arguments(
        cls, quant_func: Type["QuantizationFunction"], arguments: Dict[str, Any]
    ) -> "BoundQuantizationFunction":
        self = cls.__new__(cls)
        self.quant_func = quant_func
        self._arguments = dict(arguments)
        return self

    @property
    def args(self) -> Tuple[Any, ...]:
        """The bound arguments, in ``dequantize``'s parameter order, positionally: an omitted
        optional parameter before a bound one shows as its default, so
        ``BoundQuantizationFunction(fn, *bound.args)`` binds the same values."""
        values: List[Any] = []
        pending: List[Any] = []
        for name, param in _dequantize_signature(self.quant_func).parameters.items():
            if param.kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                break
            if name in self._arguments:
                values += pending + [self._arguments[name]]
                pending = []
            else:
                pending.append(param.default)
        return tuple(values)

    # Context interface.
    @property
    def quantization_fn(self) -> Type["QuantizationFunction"]:
        return self.quant_func

    @property
    def quantization_params(self) -> QuantArgs:
        return self.arguments()

    def arguments(self) -> QuantArgs:
        """The bound arguments by name."""
        return QuantArgs(**self._arguments)

    def _full_arguments(self) -> list:
        """Every dequantize argument in order, defaults filled in (for positional calls)."""
        values = []
        for name, param in _dequantize_signature(self.quant_func).parameters.items():
            if name in self._arguments:
                values.append(self._arguments[name])
            elif param.default is not inspect.Parameter.empty:
                values.append(param.default)
            elif param.kind is inspect.Parameter.VAR_POSITIONAL:
                continue
            else:
                raise TypeError("%s: missing argument %r" % (self.quant_func.__name__, name))
        return values

    def _quantize_call(self) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        """How ``quantize`` gets the arguments bound against ``dequantize``: by name when
        ``quantize`` takes every bound name (its parameters may come in another order), else
        positionally in ``dequantize``'s order (parameters named differently, ``*args``),
        keyword-only ones by name."""
        named, any_keyword, keyword_only = _quantize_names(self.quant_func)
        if any_keyword or set(self._arguments) <= named:
            return (), self._arguments
        return self.args, {k: v for k, v in self._arguments.items() if k in keyword_only}

    def quantize(self, data: torch.Tensor) -> torch.Tensor:
        """Quantize ``data`` into a QuantizedTensor carrying this bound function."""
        fn = self.quant_func
        autograd_fn = getattr(fn, "_autograd_function", None)
        if autograd_fn is not None:
            result = autograd_fn.apply(data, *self._full_arguments())
            if isinstance(result, tuple):
                raw, new_args = result[0], result[1:]
                names = list(_dequantize_signature(fn).parameters)
                bound = self.rebind(**dict(zip(names, new_args)))
                return bound.attach(raw)
            return self.attach(result)
        args, kwargs = self._quantize_call()
        raw = fn.quantize(data, *args, **kwargs)
        tensors = [(n, v) for n, v in self._arguments.items() if isinstance(v, torch.Tensor)]
        if torch.is_grad_enabled() and (
            raw.requires_grad or any(v.requires_grad for _, v in tensors)
        ):
            raw = _DequantizeBackward.apply(self, [n for n, _ in tensors], raw, *[v for _, v in tensors])
        return self.attach(raw)

    __call__ = quantize

    def attach(self, data: torch.Tensor, *dynamic_args: Any) -> torch.Tensor:
        """Wrap raw ``data`` as a QuantizedTensor (export mode: its dequantized value)."""
        from fastforward.quantized_tensor import QuantizedTensor

        bound = self
        if dynamic_args:
            bound = BoundQuantizationFunction(self.quant_func, *dynamic_args)
        if get_export_mode():
            return bound.dequantize(data)
        return QuantizedTensor(data, bound)

    def dequantize(self, data: torch.Tensor) -> torch.Tensor:
        """The real values of raw ``data`` (a QuantizedTensor or its raw tensor); the
        gradient w.r.t. the raw data is the identity."""
        raw = getattr(data, "raw_data", data)
        with torch.no_grad():
            value = self.quant_func.dequantize(raw.detach(), **self._arguments)
        if torch.is_grad_enabled() and raw.requires_grad:
            return _IdentityGrad.apply(raw, [value])
        return value

    def rebind(self, **kwargs: Any) -> "BoundQuantizationFunction":
        """A new bound function with some arguments replaced."""
        names = _dequantize_signature(self.quant_func).parameters
        for name in kwargs:
            if name not in names:
                raise TypeError("%s has no argument %r" % (self.quant_func.__name__, name))
        arguments = dict(self._arguments)
        arguments.update(kwargs)
        return BoundQuantizationFunction._from_arguments(self.quant_func, arguments)

    def with_changes(self, quantization_fn: Any = None, **changes: Any) -> "BoundQuantizationFunction":
        bound = self.rebind(**changes)
        if quantization_fn is not None:
            bound.quant_func = quantization_fn
        return bound

    def rebind_and_attach(self, qt: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """``qt``'s raw data re-parameterised with ``kwargs``."""
        if getattr(qt, "quant_func", None) is not self.quant_func:
            raise ValueError(
                "rebind_and_attach: the tensor was not made by %s" % self.quant_func.__name__
            )
        return self.rebind(**kwargs).attach(qt.raw_data)  # type: ignore[attr-defined]

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> "BoundQuantizationFunction":
        arguments = {
            n: fn(v) if isinstance(v, torch.Tensor) else v for n, v in self._arguments.items()
        }
        return BoundQuantizationFunction._from_arguments(self.quant_func, arguments)

    def clone(self) -> "BoundQuantizationFunction":
        return self._map(lambda t: t.clone())

    def detach_arguments(self) -> "BoundQuantizationFunction":
        return self._map(lambda t: t.detach())

    def to(self, device: Any) -> "BoundQuantizationFunction":
        return self._map(lambda t: t.to(device))

    def contiguous(self) -> "BoundQuantizationFunction":
        if all(v.is_contiguous() for v in self._arguments.values() if isinstance(v, torch.Tensor)):
            return self
        return self._map(lambda t: t.contiguous())

    clone_parameters = clone
    detach_parameters = detach_arguments
    contiguous_parameters = contiguous

    def __reduce__(self) -> Any:
        return (BoundQuantizationFunction._from_arguments, (self.quant_func, self._arguments))

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % item for item in self._arguments.items())
        return "%s(%s)" % (self.quant_func.__name__, args)


class _IdentityGrad(torch.autograd.Function):
    """Returns ``value``; the gradient flows to ``raw`` unchanged.

    ``value`` comes in a list, not as an input tensor, and is not a view (a copy when it is
    one): autograd takes an output that is an input, or a view, of a custom Function for a
    view created inside it, and an in-place op on the dequantized value
    (``F.hardswish(q(x), inplace=True)`` while training) was then an error."""

    @staticmethod
    def forward(ctx: Any, raw: torch.Tensor, boxed: List[torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        ctx.raw_dtype = raw.dtype
        value = boxed[0]
        return value.clone() if value._is_view() else value

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        return grad.to(ctx.raw_dtype), None


class _DequantizeBackward(torch.autograd.Function):
    """Identity on the raw data. Backward: the incoming gradient is w.r.t. the dequantized
    value; it is carried through ``dequantize`` to the raw data and to the tensor
    arguments, so the whole chain differentiates as ``dequantize(quantize(x))``."""

    @staticmethod
    def forward(ctx: Any, bound: BoundQuantizationFunction, names: list, raw: torch.Tensor, *tensors: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.bound = bound
        ctx.names = names
        ctx.save_for_backward(raw, *tensors)
        return raw.view_as(raw)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        raw, *tensors = ctx.saved_tensors
        arguments = dict(ctx.bound._arguments)
        inputs, slots = [], []
        with torch.enable_grad():
            raw_in = raw.detach()
            if ctx.needs_input_grad[2] and raw_in.is_floating_point():
                raw_in.requires_grad_(True)
                inputs.append(raw_in)
                slots.append(0)
            for i, (name, value) in enumerate(zip(ctx.names, tensors)):
                if ctx.needs_input_grad[3 + i] and value.is_floating_point():
                    leaf = value.detach().requires_grad_(True)
                    arguments[name] = leaf
                    inputs.append(leaf)
                    slots.append(1 + i)
                else:
                    arguments[name] = value.detach()
            out = ctx.bound.quant_func.dequantize(raw_in, **arguments)
            grads: list = [None] * (1 + len(tensors))
            if inputs and out.requires_grad:
                found = torch.autograd.grad(out, inputs, grad, allow_unused=True)
                for slot, g in zip(slots, found):
                    if g is not None and slot > 0:
                        g = _sum_to_shape(g, tensors[slot - 1].shape)
                    grads[slot] = g
        return (None, None, *grads)


def _sum_to_shape(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    if grad.shape == shape:
        return grad
    return grad.sum_to_size(shape) if len(shape) else grad.sum()


# --- the base class --------------------------------------------------------------------------


def _is_static(cls: type, name: str) -> bool:
    try:
        return isinstance(inspect.getattr_static(cls, name), staticmethod)
    except AttributeError:
        return False


class QuantizationFunction(Generic[_Params]):
    """Base class of quantization functions (never instantiated; see the module doc).
    Generic in its parameters type: ``class F(QuantizationFunction[FParams])``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "QuantizationFunction":
        raise TypeError(
            "%s is a static container of functions and cannot be instantiated; use "
            "%s.apply(data, ...) or %s.bind(...)" % (cls.__name__, cls.__name__, cls.__name__)
        )

    @classmethod
    def quantize(cls, data: torch.Tensor, params: Any) -> torch.Tensor:  # type: ignore[override]
        """Context style: quantize ``data`` with ``params`` into a QuantizedTensor."""
        raise NotImplementedError("%s does not implement quantize" % cls.__name__)

    @classmethod
    def dequantize(cls, data: torch.Tensor, params: Any) -> torch.Tensor:  # type: ignore[override]
        """Context style: the real values of raw ``data``."""
        raise NotImplementedError("%s does not implement dequantize" % cls.__name__)

    @classmethod
    def bind(cls, *args: Any, **kwargs: Any) -> BoundQuantizationFunction:
        """Bind arguments (as ``dequantize`` names them) -> BoundQuantizationFunction."""
        return BoundQuantizationFunction(cls, *args, **kwargs)

    @classmethod
    def apply(cls, data: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Quantize ``data``: ``cls.bind(*args, **kwargs).quantize(data)``."""
        return cls.bind(*args, **kwargs).quantize(data)

    @classmethod
    def attach(cls, data: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Wrap already-quantized raw ``data``: ``cls.bind(...).attach(data)``."""
        return cls.bind(*args, **kwargs).attach(data)


BaseQuantizationFunction = QuantizationFunction


class QuantizationAutogradFunction(QuantizationFunction):
    """Bound-style quantization function with an explicit backward for quantize+dequantize.

    Subclasses define staticmethods ``quantize(ctx, data, *args)`` (an autograd forward,
    returning the raw tensor or ``(raw, *new_args)``), ``dequantize(raw, *args)`` and
    ``quant_dequant_backward(ctx, grad, ...)`` returning one gradient per ``quantize``
    input after ``ctx``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _is_static(cls, "quantize") and _is_static(cls, "quant_dequant_backward"):
            cls._autograd_function = type(  # type: ignore[attr-defined]
                cls.__name__ + "AutogradFunction",
                (torch.autograd.Function,),
                {
                    "forward": staticmethod(cls.quantize),
                    "backward": staticmethod(cls.quant_dequant_backward),
                },
            )


# --- building a context-style function from two callables ----------------------------------


def create_quantization_function(
    cls_name: str, quantize: Callable[..., torch.Tensor], dequantize: Callable[..., torch.Tensor]
) -> Tuple[type, type, Callable[..., torch.Tensor]]:
    """(parameters dataclass, context-style function class, ``fn(data, **params)``) built
    from ``quantize(data, ...)`` and ``dequantize(raw, ...)``."""
    fields: Dict[str, inspect.Parameter] = {}
    declared: Dict[str, list] = {}
    for which, fn in (("quantize", quantize), ("dequantize", dequantize)):
        params = list(inspect.signature(fn).parameters.values())[1:]
        declared[which] = []
        for p in params:
            if p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError("%s: parameter %r of %s cannot be bound by name" % (cls_name, p.name, which))
            if p.name in fields:
                if fields[p.name].annotation != p.annotation:
                    raise TypeError("%s: %r is annotated differently in quantize and dequantize" % (cls_name, p.name))
                if fields[p.name].default != p.default:
                    raise ValueError("%s: %r has different defaults in quantize and dequantize" % (cls_name, p.name))
            fields[p.name] = p
            declared[which].append(p.name)
    ordered = sorted(fields.values(), key=lambda p: p.default is not inspect.Parameter.empty)
    spec = []
    for p in ordered:
        annotation = Any if p.annotation is inspect.Parameter.empty else p.annotation
        if p.default is inspect.Parameter.empty:
            spec.append((p.name, annotation))
        else:
            spec.append((p.name, annotation, dataclasses.field(default=p.default)))
    params_type = dataclasses.make_dataclass(cls_name + "Params", spec, bases=(QuantizationParameters,))

    def _pick(params: Any, which: str) -> Dict[str, Any]:
        return {name: getattr(params, name) for name in declared[which]}

    def _quantize(cls: type, data: torch.Tensor, params: Any) -> torch.Tensor:
        raw = quantize(data, **_pick(params, "quantize"))
        return QuantizationContext(cls, params).attach(raw)

    def _dequantize(cls: type, data: torch.Tensor, params: Any) -> torch.Tensor:
        return dequantize(data, **_pick(params, "dequantize"))

    fn_type = type(
        cls_name,
        (QuantizationFunction,),
        {"quantize": classmethod(_quantize), "dequantize": classmethod(_dequantize)},
    )

    def helper(data: torch.Tensor, **params: Any) -> torch.Tensor:
        return fn_type.quantize(data, params_type(**params))  # type: ignore[attr-defined]

    helper.__name__ = cls_name.lower()
    return params_type, fn_type, helper


safe_for_torch_load(QuantizationContext, QuantArgs)

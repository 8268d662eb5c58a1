"""Quantizer modules, their tags and metadata.

Generated code routes every tensor it quantizes through a quantizer module:
``x = self.quantizer_x(x)``. ``Quantizer`` is the base class (subclasses implement
``quantize``); ``QuantizerStub`` is the identity placeholder autoquant puts everywhere a
quantizer may go.
"""

from __future__ import annotations

import collections
import copy
import math
import weakref
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import torch

from fastforward.forward_override import OverrideFn, OverrideHandle, apply_overrides, note_loaded_handle_ids
from fastforward.quantized_tensor import QuantizedTensor
from fastforward.serialization import yamlable

__all__ = ["Quantizer", "QuantizerMetadata", "QuantizerStub", "Tag", "default_tags", "describe"]


class Tag:
    """An interned, hierarchical symbol (``Tag("parameter") / "weight"``)."""

    _interned: Dict[str, "Tag"] = {}
    symbol: str

    def __new__(cls, symbol: Union[str, "Tag"]) -> "Tag":
        if isinstance(symbol, Tag):
            return symbol
        if not isinstance(symbol, str) or not symbol or symbol.startswith("/") or symbol.endswith("/"):
            raise ValueError("Tag: invalid symbol %r" % (symbol,))
        tag = cls._interned.get(symbol)
        if tag is None:
            tag = object.__new__(cls)
            tag.symbol = symbol
            cls._interned[symbol] = tag
        return tag

    def __truediv__(self, other: Union[str, "Tag"]) -> "Tag":
        return Tag("%s/%s" % (self.symbol, Tag(other).symbol))

    def __rtruediv__(self, other: Union[str, "Tag"]) -> "Tag":
        return Tag("%s/%s" % (Tag(other).symbol, self.symbol))

    def hierarchy(self) -> Iterator["Tag"]:
        """This tag, then each of its ancestors (``a/b``, then ``a``)."""
        parts = self.symbol.split("/")
        for n in range(len(parts), 0, -1):
            yield Tag("/".join(parts[:n]))

    def __str__(self) -> str:
        return "#" + self.symbol

    def __repr__(self) -> str:
        return self.symbol

    def __copy__(self) -> "Tag":
        return self

    def __deepcopy__(self, memo: Any) -> "Tag":
        return self

    def __reduce__(self) -> Any:
        return (Tag, (self.symbol,))


class _DefaultTags:
    parameter_quantizer = Tag("parameter")
    activation_quantizer = Tag("activation")
    weight_quantizer = Tag("parameter/weight")
    bias_quantizer = Tag("parameter/bias")
    input_quantizer = Tag("activation/input")
    output_quantizer = Tag("activation/output")


default_tags = _DefaultTags()


class QuantizerMetadata:
    """The tags (with their hierarchy) and attributes of a quantizer slot."""

    def __init__(self, *tags: Union[str, Tag], weight_quantizer: bool = False,
                 bias_quantizer: bool = False, input_quantizer: bool = False,
                 output_quantizer: bool = False, shape: Optional[Tuple[int, ...]] = None,
                 **kwargs: Any) -> None:
        self._tags: set = set()
        for tag in tags:
            self.add_tag(tag)
        for flag, tag in ((weight_quantizer, default_tags.weight_quantizer),
                          (bias_quantizer, default_tags.bias_quantizer),
                          (input_quantizer, default_tags.input_quantizer),
                          (output_quantizer, default_tags.output_quantizer)):
            if flag:
                self.add_tag(tag)
        self.shape = shape
        self._attributes = dict(kwargs)

    def add_tag(self, tag: Union[str, Tag]) -> None:
        """Add ``tag`` and its ancestors."""
        self._tags.update(Tag(tag).hierarchy())

    def __contains__(self, tag: Union[str, Tag]) -> bool:
        return Tag(tag) in self._tags

    def __getattr__(self, name: str) -> Any:
        attributes = self.__dict__.get("_attributes", {})
        if name in attributes:
            return attributes[name]
        raise AttributeError(name)

    @property
    def parameter_quantizer(self) -> bool:
        return default_tags.parameter_quantizer in self._tags

    @property
    def activation_quantizer(self) -> bool:
        return default_tags.activation_quantizer in self._tags

    @property
    def weight_quantizer(self) -> bool:
        return default_tags.weight_quantizer in self._tags

    @property
    def bias_quantizer(self) -> bool:
        return default_tags.bias_quantizer in self._tags

    @property
    def input_quantizer(self) -> bool:
        return default_tags.input_quantizer in self._tags

    @property
    def output_quantizer(self) -> bool:
        return default_tags.output_quantizer in self._tags

    @property
    def tags(self) -> frozenset:
        return frozenset(self._tags)

    def is_extension(self, other: "QuantizerMetadata") -> bool:
        """Whether ``other`` has all of this metadata's tags and attributes."""
        if not self._tags <= other._tags:
            return False
        if self.shape is not None and other.shape is not None and tuple(self.shape) != tuple(other.shape):
            return False
        return all(other._attributes.get(k, object()) == v for k, v in self._attributes.items())

    def __eq__(self, other: object) -> bool:
        """Equal when tags, shape and attributes are (how a slot's metadata is compared with
        one built from the same arguments: ``QuantizerMetadata(weight_quantizer=True)``
        equals ``QuantizerMetadata("parameter/weight")``)."""
        if not isinstance(other, QuantizerMetadata):
            return NotImplemented
        shapes = [None if s is None else tuple(s) for s in (self.shape, other.shape)]
        return self._tags == other._tags and shapes[0] == shapes[1] and self._attributes == other._attributes

    __hash__ = None  # type: ignore[assignment]  # mutable (add_tag): compared by value, not hashed

    def to_stub(self) -> "QuantizerStub":
        """Deprecated: a QuantizerStub carrying this metadata."""
        import warnings

        warnings.warn("QuantizerMetadata.to_stub is deprecated; use QuantizerStub(_metadata=...)",
                      DeprecationWarning, stacklevel=2)
        return QuantizerStub(_metadata=self)

    def __repr__(self) -> str:
        tags = ", ".join(sorted(t.symbol for t in self._tags))
        return "QuantizerMetadata(tags={%s}, shape=%r)" % (tags, self.shape)


def describe(quantizer: Any) -> str:
    """How errors name a quantizer: its class and, when known, its module path."""
    path = getattr(quantizer, "_ff_path", None)
    name = type(quantizer).__name__
    return "%s at %r" % (name, path) if path else name


# quantizer -> (key of a Python float, the 0-d tensor made of it, that tensor's version): a
# quantizer given the same float on every call (attention's scaling, a norm's epsilon) gets
# the same tensor, which lets a LinearQuantizer return its previous result for it
# (``LinearQuantizer._memo_key``) instead of quantizing the constant again.
_FLOAT_INPUTS: "weakref.WeakKeyDictionary[Any, Tuple[Any, ...]]" = weakref.WeakKeyDictionary()


def _float_tensor(q: Any, value: float) -> torch.Tensor:
    """``value`` as a 0-d tensor of the default dtype: the one made for ``q`` last time when
    the value (sign of zero included) and dtype are the same and the tensor is unchanged."""
    key = (value, math.copysign(1.0, value), torch.get_default_dtype())
    hit = _FLOAT_INPUTS.get(q)
    if hit is not None and hit[0] == key and hit[1]._version == hit[2]:
        return hit[1]
    if torch.is_inference_mode_enabled():
        with torch.inference_mode(False):  # (an inference tensor has no version counter)
            t = torch.tensor(value, dtype=key[2])
    else:
        t = torch.tensor(value, dtype=key[2])
    try:
        _FLOAT_INPUTS[q] = (key, t, t._version)
    except TypeError:  # not weakly referenceable
        pass
    return t


# quantizer -> (its last result for a Python float, that result as a Python float): a
# LinearQuantizer returns the same object for the same float (its memo), read once.
_FLOAT_OUTPUTS: "weakref.WeakKeyDictionary[Any, Tuple[Any, float]]" = weakref.WeakKeyDictionary()


def _number_of(q: Any, out: Any) -> Any:
    """The Python float a quantizer's 0-d result for a Python float stands for (its
    dequantized value); other results (an override's own) as they are."""
    if not isinstance(out, torch.Tensor) or out.dim() != 0:
        return out
    hit = _FLOAT_OUTPUTS.get(q)
    if hit is not None and hit[0] is out:
        return hit[1]
    value = float((out.dequantize() if hasattr(out, "dequantize") else out).detach())
    try:
        _FLOAT_OUTPUTS[q] = (out, value)
    except TypeError:  # not weakly referenceable
        pass
    return value


def float_input(q: Any) -> Optional[torch.Tensor]:
    """The 0-d tensor ``q``'s forward last made of a Python float, or None."""
    hit = _FLOAT_INPUTS.get(q)
    return None if hit is None else hit[1]


@yamlable
class Quantizer(torch.nn.Module):
    """Base class of quantizers: ``quantize(data)`` turns a tensor into a QuantizedTensor;
    calling the module runs ``quantize`` through the registered overrides."""

    quant_metadata: Optional[QuantizerMetadata]

    def __init__(self) -> None:
        super().__init__()
        self.quant_metadata = None
        self._quantizer_overrides: "collections.OrderedDict[int, OverrideFn]" = collections.OrderedDict()

    def __setstate__(self, state: Dict[str, Any]) -> None:
        super().__setstate__(state)
        # overrides pickled with the quantizer keep their handle ids: new handles here must
        # not reuse them (another process issued them)
        note_loaded_handle_ids(self.__dict__.get("_quantizer_overrides") or ())

    def _overrides_dict(self) -> "collections.OrderedDict[int, OverrideFn]":
        # Subclasses that skip Quantizer.__init__ still work.
        od = self.__dict__.get("_quantizer_overrides")
        if od is None:
            od = collections.OrderedDict()
            self.__dict__["_quantizer_overrides"] = od
        return od

    def quantize(self, data: torch.Tensor) -> torch.Tensor:
        """Quantize ``data`` (override point)."""
        raise NotImplementedError("%s does not implement quantize()" % type(self).__name__)

    # True for a quantizer whose result does not depend on a tensor input (a frozen weight:
    # its input is None once the float weight is gone); forward then passes anything on.
    ignores_input = False

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        if not self.ignores_input and not (
                isinstance(data, QuantizedTensor)  # (first: its dtype and layout are Python-level reads)
                or (isinstance(data, torch.Tensor) and data.is_floating_point() and data.layout == torch.strided)):
            # Generated code quantizes values whose type it cannot know (docs/quantization.md,
            # "Values that are not float tensors"): a Python float is quantized as a 0-d tensor of
            # the default dtype and comes back as the Python float of its quantized value, so
            # code that tests what it holds (`torch.is_tensor(scale)`, `isinstance(s, float)`)
            # takes the branch the float model takes; anything else that is not a dense
            # floating-point tensor (None, an int, an integer or bool tensor such as position ids
            # or a mask, a sparse or other non-strided tensor such as torch_geometric's
            # adjacency, a tuple) passes on unchanged, as through a stub.
            if type(data) is not float:
                return data
            return _number_of(self, self._quantize_overridden(_float_tensor(self, data)))
        return self._quantize_overridden(data)

    def _quantize_overridden(self, data: torch.Tensor) -> torch.Tensor:
        overrides = self.__dict__.get("_quantizer_overrides")
        if not overrides:
            return self.quantize(data)
        return apply_overrides(self, list(overrides.values()), self.quantize, (data,), {})

    def register_override(self, fn: OverrideFn) -> OverrideHandle:
        """Wrap ``quantize`` in ``fn(quantizer, next_callable, args, kwargs)``."""
        handle = OverrideHandle(self)
        self._overrides_dict()[handle.handle_id] = fn
        return handle

    def remove_override(self, handle_id: int) -> Optional[OverrideFn]:
        """Remove an override by handle id; returns it, or None."""
        return self._overrides_dict().pop(handle_id, None)

    @property
    def overrides(self) -> Iterator[OverrideFn]:
        """The registered overrides, oldest first."""
        return iter(list(self._overrides_dict().values()))

    def extra_repr(self) -> str:
        overrides = self.__dict__.get("_quantizer_overrides")
        if overrides:
            return "(overrides: %s)" % ", ".join(
                getattr(fn, "__name__", type(fn).__name__) for fn in overrides.values()
            )
        return ""

    def is_stub(self) -> bool:
        """Whether this quantizer is a placeholder."""
        return False

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any, **kwargs: Any) -> None:
        # Lazy parameters take the shape of the loaded tensors before the copy.
        lazy_types = (torch.nn.parameter.UninitializedParameter, torch.nn.parameter.UninitializedBuffer)
        for slot in (self._parameters, self._buffers):
            for name, t in slot.items():
                loaded = state_dict.get(prefix + name)
                if isinstance(t, lazy_types) and isinstance(loaded, torch.Tensor) and not isinstance(loaded, lazy_types):
                    with torch.no_grad():
                        t.materialize(loaded.shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Quantizer":
        # torch cannot deepcopy lazy (uninitialized) parameters; copy the rest and give the
        # copy fresh lazy tensors of the same kind, device and dtype.
        lazy_types = (torch.nn.parameter.UninitializedParameter, torch.nn.parameter.UninitializedBuffer)
        state = dict(self.__dict__)
        lazy = {}
        for slot in ("_parameters", "_buffers"):
            tensors = dict(state[slot])
            for name, t in tensors.items():
                if isinstance(t, lazy_types):
                    lazy[(slot, name)] = t
                    tensors[name] = None
            state[slot] = tensors
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(state, memo))
        for (slot, name), t in lazy.items():
            kwargs = {"device": t.device, "dtype": t.dtype}
            if isinstance(t, torch.nn.parameter.UninitializedParameter):
                kwargs["requires_grad"] = t.requires_grad
            new.__dict__[slot][name] = type(t)(**kwargs)
        return new

    def reset_parameters(self) -> None:
        """Return the quantizer's parameters to their initial state."""
        raise NotImplementedError("%s does not implement reset_parameters()" % type(self).__name__)

    @classmethod
    def factory(cls, *args: Any, **kwargs: Any) -> Any:
        """A function ``(name, current) -> cls(*args, **kwargs)``."""

        def make(name: str, current: Any) -> "Quantizer":
            return cls(*args, **kwargs)

        make.__name__ = "%s_factory" % cls.__name__
        return make


class QuantizerStub(Quantizer):
    """A placeholder quantizer: returns its input unchanged (the very same object), for any
    value. Carries the slot's metadata (tags)."""

    def __init__(self, *tags: Union[str, Tag], weight_quantizer: bool = False,
                 bias_quantizer: bool = False, input_quantizer: bool = False,
                 output_quantizer: bool = False, shape: Optional[Tuple[int, ...]] = None,
                 _metadata: Optional[QuantizerMetadata] = None, **kwargs: Any) -> None:
        super().__init__()
        self.quant_metadata = _metadata if _metadata is not None else QuantizerMetadata(
            *tags, weight_quantizer=weight_quantizer, bias_quantizer=bias_quantizer,
            input_quantizer=input_quantizer, output_quantizer=output_quantizer, shape=shape,
            **kwargs,
        )

    def forward(self, data: Any) -> Any:
        return data

    def quantize(self, data: Any) -> Any:
        return data

    def is_stub(self) -> bool:
        return True

    def reset_parameters(self) -> None:
        pass

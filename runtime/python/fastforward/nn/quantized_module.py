"""QuantizedModule, the module map, and quantize_model.

A quantized class combines ``QuantizedModule`` with the float class it stands for::

    class QuantizedMyLinear(fastforward.nn.QuantizedModule, MyLinear):
        def __init_quantization__(self) -> None:
            super().__init_quantization__()
            self.quantizer_input = fastforward.nn.QuantizerStub(input_quantizer=True)

        def forward(self, input): ...

Defining it records ``QuantizedMyLinear`` in the module map under ``MyLinear``. Then:

* ``quantize_model(model)`` turns every ``MyLinear`` inside ``model`` into a
  ``QuantizedMyLinear`` in place: it assigns ``__class__`` and calls
  ``__init_quantization__()``, so parameters, buffers and submodules are kept as they are.
* ``QuantizedMyLinear(10, 10)`` builds one directly: ``MyLinear.__init__`` runs first, then
  ``__init_quantization__()``.

Every quantizer slot of a quantized module has metadata (``QuantizerMetadata``: tags such as
``parameter/weight`` or ``activation/input``). A quantizer assigned into a slot takes the
slot's metadata, so a ``LinearQuantizer`` replacing a stub keeps the stub's tags and tag
queries (``[quantizer:parameter/weight]``) keep finding it. By default ffq writes plain
``QuantizerStub()`` stubs, as FastForward's autoquant does; a stub that arrives without tags
(that output, FastForward's, a hand-written ``QuantizerStub()``) gets tags inferred from the
slot's name when it is assigned: see ``infer_tags``. With ``ffq autoquant --stub-tags`` ffq
writes the tags into the stubs (``QuantizerStub(weight_quantizer=True)``,
``QuantizerStub("activation")``, ...), and those are used as they are.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import re
import sys
import threading
import warnings
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

import torch

from fastforward.exceptions import QuantizationError
from fastforward.flags import get_export_mode
from fastforward.nn._layer_view import install_layer_view
from fastforward.nn.quantizer import Quantizer, QuantizerMetadata, default_tags

__all__ = [
    "SKIP_QUANTIZATION",
    "QuantizedModule",
    "QuantizerSummaries",
    "QuantizerSummary",
    "SkipQuantization",
    "filter_quantized_module_map",
    "finish_tag_inference",
    "float_base_of",
    "infer_tags",
    "label_quantizer_paths",
    "named_quantizers",
    "quantize_model",
    "quantized_class_for",
    "quantized_module_map",
    "quantizer_state_dict",
    "record_quantized_class",
    "summarize_quantizers",
    "surrogate_quantized_modules",
]

# float module class -> quantized class (the most recently defined one wins).
_QUANTIZED_CLASSES: Dict[type, type] = {}
# Every recording in order (float class, quantized class), also the replaced ones, so that
# filter_quantized_module_map can fall back to an earlier class a later one had replaced.
_RECORDED: List[Tuple[type, type]] = []
# State-dict key (under a quantized module's prefix) of its quantizer recipes.
_RECIPES_KEY = "_ff_quantizers"
# Instance attribute: names of the slots a calibration replaced by stubs (saved as "stubs").
_STUBBED_KEY = "_ff_stubbed_slots"
# A filter installed by filter_quantized_module_map (tuple of Python module names) or None.
_MAP_FILTER: List[Tuple[str, ...]] = []


class SkipQuantization:
    """Marker class: mapping a float class to ``SKIP_QUANTIZATION`` leaves those modules (and
    everything inside them) unconverted."""

    def __repr__(self) -> str:
        return "SKIP_QUANTIZATION"


SKIP_QUANTIZATION = SkipQuantization()


# Construction. A directly constructed quantized module runs ``__init_quantization__()`` once
# its outermost ``__init__`` has returned. FastForward does this with a metaclass; here every
# subclass's ``__init__`` is wrapped instead (``__init_subclass__``), because a metaclass of
# our own would conflict with the float class's: ``class QuantizedX(QuantizedModule, X)``
# with ``X(nn.Module, ABC)`` (transformers' Perceiver and UDOP, MONAI's EfficientNet
# encoder) raised "metaclass conflict" and the whole generated file failed to import. Without
# a metaclass, the quantized class takes X's.

_building = threading.local()  # .ids: the instances whose outermost __init__ runs on this thread


def _outermost_init(init: Any) -> Any:
    """``init`` (a class's ``__init__``) made to finish a directly constructed quantized
    module: when it is the outermost ``__init__`` of the instance (not reached from a
    subclass's through ``super().__init__()``), ``__init_quantization__()`` and the tag
    inference run after it returns, as FastForward's metaclass runs them."""

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        building = _building.__dict__.setdefault("ids", set())
        key = id(self)
        if key in building:  # reached through super().__init__() of an outer one
            init(self, *args, **kwargs)
            return
        building.add(key)
        try:
            init(self, *args, **kwargs)
        finally:
            building.discard(key)
        self.__init_quantization__()
        finish_tag_inference(self)

    __init__._ff_outermost = True  # type: ignore[attr-defined]
    return __init__


def _install_outermost_init(cls: type) -> None:
    """Wrap the ``__init__`` that instances of ``cls`` run: the first one of its MRO that is
    the class's own code (this module's pass-through and the wrappers installed on other
    classes skipped, so the float class's own is wrapped, signature included), unless the
    ``__init__`` ``cls`` inherits already wraps exactly that one.

    A wrapper inherited from a quantized mixin without a float base (``class
    QuantizedConv2d(_QuantizedConvNd, nn.Conv2d)``, where the mixin's wrapper wraps
    ``nn.Module.__init__``) does not serve: it would skip the float class's ``__init__``
    (``QuantizedConv2d(3, 4, 3)`` and ``QuantizedRelu(inplace=True)`` raised TypeError)."""
    init = None
    for klass in cls.__mro__:
        candidate = klass.__dict__.get("__init__")
        if candidate is None or klass is QuantizedModule or getattr(candidate, "_ff_outermost", False):
            continue
        init = candidate
        break
    current = cls.__dict__.get("__init__", getattr(cls, "__init__", None))
    if getattr(current, "_ff_outermost", False) and getattr(current, "__wrapped__", None) is init:
        return
    cls.__init__ = _outermost_init(init)  # type: ignore[misc]


class QuantizedModule(torch.nn.Module):
    """Base class of quantized modules.

    Subclasses override ``__init_quantization__`` to create their quantizers, and start it
    with ``super().__init_quantization__()``. Class keyword ``include_in_module_map=False``
    keeps a subclass out of the module map that ``quantize_model`` uses.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # passes the call on (a subclass's ``super().__init__(...)`` reaches the float base
        # after this class); wrapped below, so ``QuantizedModule()`` itself is finished too
        super().__init__(*args, **kwargs)

    def __init_subclass__(cls, include_in_module_map: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _install_outermost_init(cls)
        install_layer_view(cls)  # containers: their quantizer slots are not entries
        if include_in_module_map:
            base = float_base_of(cls)
            if base is not None:
                record_quantized_class(base, cls, _stacklevel=2)
        plans = sys.modules.get("fastforward._layer_plan")
        if plans is not None:  # (loaded with the package, after the classes defined here)
            plans.adopt(cls)  # a generated activation module: the layer plan

    def __init_quantization__(self) -> None:
        """Create this module's quantizers (base: start an empty slot-metadata map)."""
        self.__dict__["_quantizer_metadata"] = {}

    # --- quantizer slots ---------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_ff_layer_view"):
            # inside a container method (ModuleList.__setitem__ ...): a layer, not a slot
            super().__setattr__(name, value)
            return
        if isinstance(value, Quantizer):
            self.register_quantizer(name, value, _register_module=False)
        elif value is None and name in self.__dict__.get("_quantizer_metadata", {}):
            self._modules[name] = None
            return
        super().__setattr__(name, value)

    def register_quantizer(self, name: str, quantizer: Optional[Quantizer], *,
                           _register_module: bool = True) -> None:
        """Put ``quantizer`` in slot ``name``, reconciling the slot's metadata."""
        if quantizer is not None and not isinstance(quantizer, Quantizer):
            raise TypeError("register_quantizer: %r is not a Quantizer" % (quantizer,))
        slots = self.__dict__.get("_quantizer_metadata")
        if slots is None:
            raise AttributeError(
                "cannot register quantizer %r on %s before __init_quantization__() has run "
                "(create quantizers in __init_quantization__, not __init__)" % (name, type(self).__name__)
            )
        if quantizer is None:
            self._modules[name] = None
            if name not in slots:
                self.__dict__.setdefault("_ff_empty_slots", set()).add(name)
            return
        own = slots.get(name)
        incoming = quantizer.quant_metadata
        if own is None:
            own = incoming if incoming is not None else QuantizerMetadata()
            if not own.tags:
                for tag in infer_tags(self, name, list(slots) + [name]):
                    own.add_tag(tag)
                self.__dict__.setdefault("_ff_inferred_slots", set()).add(name)
            slots[name] = own
        elif incoming is not None and incoming is not own and not incoming.is_extension(own):
            warnings.warn(
                "%s.%s: the quantizer's metadata %r does not extend the slot's %r; the slot's is kept"
                % (type(self).__name__, name, incoming, own), RuntimeWarning, stacklevel=3,
            )
        quantizer.quant_metadata = own
        if _register_module:
            torch.nn.Module.__setattr__(self, name, quantizer)

    @property
    def quantizer_metadata(self) -> Dict[str, QuantizerMetadata]:
        """Slot name -> metadata."""
        return dict(self.__dict__.get("_quantizer_metadata", {}))

    def named_quantizers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True,
                         skip_stubs: bool = True) -> Iterator[Tuple[str, Quantizer]]:
        yield from named_quantizers(self, prefix, recurse, remove_duplicate, skip_stubs)

    def quantizers(self, recurse: bool = True, skip_stubs: bool = True) -> Iterator[Quantizer]:
        for _, q in self.named_quantizers(recurse=recurse, skip_stubs=skip_stubs):
            yield q

    def quantizer_state_dict(self) -> Dict[str, torch.Tensor]:
        return quantizer_state_dict(self)

    def summarize_quantizers(self, writer: Any = None) -> "QuantizerSummaries":
        return summarize_quantizers(self, writer)

    def quantize_children(self, extra_conversion: Optional[Dict[type, Any]] = None,
                          skip_quantized_modules: bool = False, *, ignore_global_module_map: bool = False) -> None:
        """Run ``quantize_model`` on every child that is not a quantizer."""
        for child in list(self._modules.values()):
            if child is None or isinstance(child, Quantizer):
                continue
            quantize_model(child, True, extra_conversion, skip_quantized_modules,
                           ignore_global_module_map=ignore_global_module_map)

    # --- state dict: quantizer recipes travel as extra state ----------------------------------

    def _quantizer_recipes(self) -> Dict[str, Any]:
        from fastforward.quantization.serialization import quantizer_recipe

        recipes = {}
        for name, child in self._modules.items():
            if isinstance(child, Quantizer) and not child.is_stub():
                try:
                    recipes[name] = quantizer_recipe(child)
                except TypeError:
                    continue  # a custom quantizer: its tensors still load into a same-class slot
        return recipes

    def _save_to_state_dict(self, destination: Any, prefix: str, keep_vars: bool) -> None:
        # Recipes (class + constructor arguments) of the real quantizers in this module's
        # slots, so that load_state_dict can rebuild them in a copy that still holds stubs.
        # They go into the state dict's per-module metadata (``state_dict._metadata[path]``,
        # where torch keeps each module's version; torch.save / torch.load, copy and pickle
        # keep it), not under a key: the keys and values stay the tensors alone, as
        # FastForward's, so code treating every value as a tensor (safetensors, key checks)
        # works. Modules holding only stubs add nothing: their state dict is the float one.
        # In export mode they are left out.
        super()._save_to_state_dict(destination, prefix, keep_vars)
        recipes = {} if get_export_mode() else self._quantizer_recipes()
        entry: Dict[str, Any] = {"quantizers": recipes} if recipes else {}
        # Slots a calibration turned into stubs (never reached, masks): a copy whose slot
        # still holds a real, uncalibrated quantizer (a fresh fastforward.quantize) makes it a
        # stub too when loading, instead of missing its range.
        stubbed = sorted(name for name in self.__dict__.get(_STUBBED_KEY, ())
                         if isinstance(self._modules.get(name), Quantizer) and self._modules[name].is_stub())
        if stubbed and not get_export_mode():
            entry["stubs"] = stubbed
        if not get_export_mode() and self.__dict__.get("_ff_strict") is False:
            entry["strict"] = False  # made by fastforward.quantize: runs without strict quantization
        metadata = getattr(destination, "_metadata", None)
        if entry and isinstance(metadata, dict):
            metadata.setdefault(prefix[:-1], {})[_RECIPES_KEY] = entry

    def _load_from_state_dict(self, state_dict: Any, prefix: str, local_metadata: Any, strict: bool,
                              missing_keys: List[str], unexpected_keys: List[str], error_msgs: List[str]) -> None:
        extra = local_metadata.get(_RECIPES_KEY) if isinstance(local_metadata, dict) else None
        if extra is None:  # saved by an earlier version, as a state-dict entry
            extra = state_dict.get(prefix + _RECIPES_KEY)
        recipes = extra.get("quantizers", {}) if isinstance(extra, dict) else {}
        if recipes:
            from fastforward.quantization.serialization import _replace_slot, build_quantizer

            for name, recipe in recipes.items():
                current = self._modules.get(name, None)
                # A frozen weight (integers in the state dict, no float weight) also replaces a
                # live quantizer: the model loading it is the unfrozen form of the one saved
                # (made by the same fastforward.quantize call, calibrated or not), as Quanto
                # loads a frozen state dict into a freshly quantized model.
                frozen = (isinstance(recipe, dict) and recipe.get("class") == "FrozenWeightQuantizer"
                          and prefix + name + ".int_weight" in state_dict
                          and type(current).__name__ != "FrozenWeightQuantizer")
                if isinstance(current, Quantizer) and (current.is_stub() or frozen):
                    try:
                        new = build_quantizer(recipe)
                    except (TypeError, ValueError) as exc:
                        error_msgs.append("%s%s: cannot rebuild quantizer: %s" % (prefix, name, exc))
                        continue
                    _replace_slot(self, name, new)
                    new.__dict__["_ff_path"] = prefix + name
        for name in (extra.get("stubs", ()) if isinstance(extra, dict) else ()):
            current = self._modules.get(name, None)
            if isinstance(current, Quantizer) and not current.is_stub():
                from fastforward.nn.quantizer import QuantizerStub

                setattr(self, name, QuantizerStub(_metadata=current.quant_metadata))
            if isinstance(current, Quantizer):
                self.__dict__.setdefault(_STUBBED_KEY, set()).add(name)
        if isinstance(extra, dict) and extra.get("strict") is False:
            from fastforward.quantization.strict_quantization import mark_non_strict

            mark_non_strict(self)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        # A quantizer whose state was loaded holds a calibrated range: the switch with which
        # fastforward.quantize holds activations back until calibration steps aside for it,
        # as at the end of a calibration (else the loaded model ran its activations in float).
        for name, child in self._modules.items():
            if not isinstance(child, Quantizer) or child.is_stub():
                continue
            # (the quantizer itself loads after this module: its state is in state_dict)
            if not any(key.startswith(prefix + name + ".") for key in state_dict):
                continue
            for handle_id, fn in list(child._overrides_dict().items()):
                if getattr(fn, "until_calibrated", False):
                    child.remove_override(handle_id)
        if prefix + _RECIPES_KEY in unexpected_keys:
            unexpected_keys.remove(prefix + _RECIPES_KEY)

    def save_quantization_state(self, **kwargs: Any) -> Any:
        from fastforward.quantization.serialization import save_quantization_state

        return save_quantization_state(self, **kwargs)

    def load_quantization_state(self, **kwargs: Any) -> Any:
        from fastforward.quantization.serialization import load_quantization_state

        return load_quantization_state(self, **kwargs)

    def save_quantized_model(self, path: Any, **kwargs: Any) -> Any:
        from fastforward.quantization.serialization import save_quantized_model

        return save_quantized_model(self, path, **kwargs)

    def load_quantized_model(self, path: Any, **kwargs: Any) -> Any:
        from fastforward.quantization.serialization import load_quantized_model

        return load_quantized_model(self, path, **kwargs)


QuantizedModule.__init__ = _outermost_init(QuantizedModule.__init__)  # type: ignore[method-assign]


def record_quantized_class(float_cls: type, quantized_cls: type, *, _stacklevel: int = 2) -> None:
    """Record ``quantized_cls`` in the module map as the quantized class of ``float_cls``
    (what defining a ``QuantizedModule`` subclass does; the built-in layers are recorded from
    the known-module list). Replacing another class warns, a built-in one too (the spec: the
    last created wins, with a warning); a class of the same name (regenerated code, a module
    imported again) replaces its namesake silently."""
    previous = _QUANTIZED_CLASSES.get(float_cls)
    if (previous is not None and previous is not quantized_cls
            and previous.__qualname__ != quantized_cls.__qualname__):  # not a regenerated class
        warnings.warn(
            "%s replaces %s as the quantized class of %s.%s"
            % (quantized_cls.__qualname__, previous.__qualname__, float_cls.__module__, float_cls.__qualname__),
            RuntimeWarning, stacklevel=_stacklevel + 1,
        )
    _QUANTIZED_CLASSES[float_cls] = quantized_cls
    _RECORDED.append((float_cls, quantized_cls))


def float_base_of(quantized_cls: type) -> Optional[type]:
    """The float class that ``quantized_cls`` quantizes, or None.

    The unique direct base that is an ``nn.Module`` subclass other than ``nn.Module`` and not
    a ``QuantizedModule`` (else the first such class in the MRO after ``QuantizedModule``).
    """
    def plain(base: Any) -> bool:
        return (isinstance(base, type) and issubclass(base, torch.nn.Module)
                and base is not torch.nn.Module and not issubclass(base, QuantizedModule))

    direct = [b for b in quantized_cls.__bases__ if plain(b)]
    if len(direct) == 1:
        return direct[0]
    if len(direct) > 1:
        return None
    mro = quantized_cls.__mro__
    if QuantizedModule not in mro:
        return None
    for base in mro[mro.index(QuantizedModule) + 1:]:
        if plain(base):
            return base
    return None


def quantized_class_for(float_cls: type) -> Optional[type]:
    """The quantized class ``quantize_model`` uses for ``float_cls`` (exact class), or None."""
    return quantized_module_map().get(float_cls)


def quantized_module_map() -> Dict[type, Any]:
    """float class -> quantized class, for every recorded QuantizedModule subclass."""
    if not _MAP_FILTER:
        return dict(_QUANTIZED_CLASSES)
    prefixes = _MAP_FILTER[-1]
    return {
        base: cls for base, cls in _RECORDED
        if any(cls.__module__ == p or cls.__module__.startswith(p + ".") for p in prefixes)
    }


@contextlib.contextmanager
def filter_quantized_module_map(*py_modules: Any) -> Iterator[None]:
    """Within the block, the module map holds only classes defined in these Python modules."""
    names = tuple(m if isinstance(m, str) else m.__name__ for m in py_modules)
    _MAP_FILTER.append(names)
    try:
        yield
    finally:
        _MAP_FILTER.pop()


def surrogate_quantized_modules(model: torch.nn.Module, *, extra_conversion: Optional[Dict[type, Any]] = None,
                                ignore_global_module_map: bool = False) -> Dict[type, type]:
    """``{type: Quantized<Type>Surrogate}`` for each module type of ``model`` without an
    entry; surrogates have no quantizers and the float forward (nn.MaxPool2d's and nn.AvgPool2d's
    computed by libffqrt while the integer path is on: the same values). Pass as ``extra_conversion``."""
    mapping = {} if ignore_global_module_map else quantized_module_map()
    mapping.update(extra_conversion or {})
    out: Dict[type, type] = {}
    for module in model.modules():
        t = type(module)
        if t in mapping or t in out or t is torch.nn.Module or isinstance(module, (Quantizer, QuantizedModule)):
            continue
        out[t] = _surrogate_class(t)
    return out


# float class -> its surrogate class (one per float class, so that an unpickled surrogate
# module gets the class of the others)
_SURROGATES: Dict[type, type] = {}


def _surrogate_class(float_class: type) -> type:
    cls = _SURROGATES.get(float_class)
    if cls is None:
        body: Dict[str, Any] = {"forward": _POOL_FORWARDS[float_class]} if float_class in _POOL_FORWARDS else {}
        body["_ff_surrogate_of"] = float_class
        body["__reduce_ex__"] = _surrogate_reduce_ex
        cls = type("Quantized%sSurrogate" % float_class.__name__, (QuantizedModule, float_class), body,
                   include_in_module_map=False)
        _SURROGATES[float_class] = cls
    return cls


def _surrogate_reduce_ex(self: Any, protocol: Any) -> Any:
    """Pickle a surrogate module through its float class: the surrogate class is made at run
    time and cannot be found by name (torch.save of a model with one raised PicklingError)."""
    reduced = object.__reduce_ex__(self, protocol)
    return (_new_surrogate, (type(self)._ff_surrogate_of,)) + tuple(reduced[2:])


def _new_surrogate(float_class: type) -> Any:
    cls = _surrogate_class(float_class)
    return cls.__new__(cls)


def _max_pool2d_forward(self: Any, input: Any) -> Any:
    """``nn.MaxPool2d.forward`` through the float implementation of
    ``fastforward.nn.functional.max_pool2d`` (libffqrt on a float32 input while the integer
    path is on: the same values; torch's own NCHW kernel is several times slower). A
    QuantizedTensor input reaches the integer kernel through torch's call as usual."""
    if self.return_indices:
        return torch.nn.MaxPool2d.forward(self, input)
    from fastforward.nn import functional

    return functional._max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)


def _avg_pool2d_forward(self: Any, input: Any) -> Any:
    """``nn.AvgPool2d.forward`` through the float implementation of
    ``fastforward.nn.functional.avg_pool2d`` (libffqrt on a float32 NCHW input while the
    integer path is on: the same bits as torch's kernel)."""
    from fastforward.nn import functional

    return functional._avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                  self.count_include_pad, self.divisor_override)


# Surrogates whose float forward libffqrt computes (exactly) while the integer path is on.
_POOL_FORWARDS = {torch.nn.MaxPool2d: _max_pool2d_forward, torch.nn.AvgPool2d: _avg_pool2d_forward}


def _mapping(extra_conversion: Optional[Dict[type, Any]], ignore_global_module_map: bool) -> Dict[type, Any]:
    mapping = {} if ignore_global_module_map else quantized_module_map()
    mapping.update(extra_conversion or {})
    return mapping


def quantize_model(model: torch.nn.Module, recursive: bool = True,
                   extra_conversion: Optional[Dict[type, Any]] = None, skip_quantized_modules: bool = False,
                   *, ignore_global_module_map: bool = False) -> torch.nn.Module:
    """Convert ``model`` (itself included) in place to quantized classes and return it.

    The mapping is the module map overlaid with ``extra_conversion``. Module types without an
    entry raise ``QuantizationError`` listing them (plain ``nn.Module`` and quantizers need
    none); ``surrogate_quantized_modules`` makes entries for such types. Modules already
    quantized raise too, listed, unless ``skip_quantized_modules`` (then they stay as they
    are and the float modules below them are converted). An entry ``SKIP_QUANTIZATION``
    leaves that module and its subtree float.
    """
    mapping = _mapping(extra_conversion, ignore_global_module_map)
    # Modules quantized before the call are an error without skip_quantized_modules; those
    # this call converts (a shared module met again, a class's own quantize_children calling
    # back) are not.
    _check_mapped(model, mapping, skip_quantized_modules or _converting[0] > 0)
    _converting[0] += 1
    try:
        if recursive:
            _unshare_stateless(model)
        _convert(model, mapping, recursive)
    finally:
        _converting[0] -= 1
    label_quantizer_paths(model)
    return model


_converting = [0]  # quantize_model calls running (nested through quantize_children)


def _stateless(module: torch.nn.Module) -> bool:
    return next(module.parameters(), None) is None and next(module.buffers(), None) is None


def _fresh_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``module`` with its own parameter, buffer, submodule and hook tables (the
    conversion adds quantizers to the copy's tables, never to the original's), its
    submodules copied the same way; other attributes are shared, as a shallow copy does."""
    new = copy.copy(module)
    for key, value in module.__dict__.items():
        if key.startswith("_") and isinstance(value, dict):
            new.__dict__[key] = value.copy()
    for name, child in module._modules.items():
        if child is not None:
            new._modules[name] = _fresh_copy(child)
    return new


def _class_held(parent: torch.nn.Module) -> set:
    """The ids of the modules that ``parent``'s class (and its bases) hold as class attributes."""
    return {id(v) for cls in type(parent).__mro__ for v in vars(cls).values() if isinstance(v, torch.nn.Module)}


def _unshare_stateless(model: torch.nn.Module) -> None:
    """Gives every place that holds a module without parameters or buffers its own object.

    A module's quantizers are its own, so one activation object called at several places
    (``self.act2 = self.act1``; ultralytics' ``Conv.default_act = nn.SiLU()``, one object in
    every ``Conv``) would get one set of quantizers, calibrated over values of unrelated
    sizes (a whole YOLO ran through one SiLU's grid: 0 dB). And the conversion changes the
    object in place: a module a class holds as a class attribute would be quantized for
    every model of that class built afterwards, float ones included. Such a module is
    replaced, where the model holds it, by a copy (``_fresh_copy``) that the conversion then
    changes. A shared module with parameters or buffers stays shared (tied weights)."""
    seen = {id(model)}
    held: Dict[type, set] = {}

    def visit(module: torch.nn.Module) -> None:
        for name, child in list(module._modules.items()):
            if child is None or isinstance(child, (Quantizer, QuantizedModule)):
                continue
            if type(module) not in held:
                held[type(module)] = _class_held(module)
            if (id(child) in seen or id(child) in held[type(module)]) and _stateless(child):
                child = _fresh_copy(child)
                module._modules[name] = child
            if id(child) in seen:
                continue  # a shared module with state: converted once, where first met
            seen.add(id(child))
            visit(child)

    visit(model)


def _check_mapped(model: torch.nn.Module, mapping: Dict[type, Any], skip_quantized_modules: bool) -> None:
    missing: List[str] = []
    quantized: List[str] = []

    def visit(module: torch.nn.Module) -> None:
        t = type(module)
        entry = mapping.get(t)
        if entry is SKIP_QUANTIZATION or isinstance(entry, SkipQuantization):
            return
        name = "%s.%s" % (t.__module__, t.__qualname__)
        if isinstance(module, Quantizer):
            pass
        elif isinstance(module, QuantizedModule):
            if not skip_quantized_modules and entry is None and name not in quantized:
                quantized.append(name)
        elif entry is None and t is not torch.nn.Module:
            if name not in missing:
                missing.append(name)
        for child in module._modules.values():
            if child is not None:
                visit(child)

    visit(model)
    problems = []
    if missing:
        problems.append(
            "no quantized class for %s. Generate them with ffq autoquant (or fastforward.autoquantize), pass "
            "extra_conversion=..., or use fastforward.nn.quantized_module.surrogate_quantized_modules(model) for "
            "modules that need no quantizers" % ", ".join(missing))
    if quantized:
        problems.append(
            "already quantized: %s. Pass skip_quantized_modules=True to leave quantized modules as they are "
            "(and convert the float modules among them)" % ", ".join(quantized))
    if problems:
        raise QuantizationError("quantize_model: " + "; ".join(problems))


def _keep_class_registrations(float_cls: type, quantized_cls: type) -> None:
    """What a library records under a module's class while ``__init__`` runs, and reads back
    by the class of the module it runs, is recorded for the quantized class too: the swap
    skips ``__init__``. transformers' ``PreTrainedModel.__init__`` keeps ``_can_record_outputs``
    under ``str(type(self))``; without the copy a converted model returned no
    ``hidden_states`` / ``attentions`` for ``output_hidden_states=True``, and SegFormer's
    segmentation head, which always asks for them, failed."""
    capturing = sys.modules.get("transformers.utils.output_capturing")
    registry = getattr(capturing, "_CAN_RECORD_REGISTRY", None)
    if isinstance(registry, dict) and str(float_cls) in registry and str(quantized_cls) not in registry:
        registry[str(quantized_cls)] = registry[str(float_cls)]


def _convert(module: torch.nn.Module, mapping: Dict[type, Any], recursive: bool) -> None:
    entry = mapping.get(type(module))
    if entry is SKIP_QUANTIZATION or isinstance(entry, SkipQuantization):
        return
    if isinstance(module, Quantizer):
        return
    if not isinstance(module, QuantizedModule) and entry is not None:
        float_cls = type(module)
        module.__class__ = entry
        _keep_class_registrations(float_cls, entry)
        module.__init_quantization__()
        finish_tag_inference(module)
    if not recursive:
        return
    if isinstance(module, QuantizedModule) and type(module).quantize_children is not QuantizedModule.quantize_children:
        # A class's own quantize_children decides how its children are converted (the spec's
        # recursion goes through it): it gets the whole mapping in use. An override written
        # for FastForward's older signature (no ignore_global_module_map) gets the mapping
        # alone, which the global map then fills in as it already does.
        try:
            accepts = inspect.signature(module.quantize_children).parameters
        except (TypeError, ValueError):
            accepts = {}
        if "ignore_global_module_map" in accepts or any(p.kind is p.VAR_KEYWORD for p in accepts.values()):
            module.quantize_children(mapping, True, ignore_global_module_map=True)
        else:
            module.quantize_children(mapping, True)
        return
    for child in list(module._modules.values()):
        if child is not None and not isinstance(child, Quantizer):
            _convert(child, mapping, recursive)


def label_quantizer_paths(model: torch.nn.Module) -> None:
    """Record on every quantizer its path in ``model`` (used to name it in error messages)."""
    for name, sub in model.named_modules():
        if isinstance(sub, Quantizer) and name:
            sub.__dict__["_ff_path"] = name


# --- tag inference for untagged stubs ------------------------------------------------------------

_SUFFIX = re.compile(r"^(.*?)(?:_(\d+))?$")


def _parameter_at(module: torch.nn.Module, rest: str) -> Optional[str]:
    """The parameter that ``self_<rest>`` names (``self.<rest>`` with some ``_`` standing for
    ``.``, e.g. ``conv_weight`` -> ``self.conv.weight``): its last name, or None."""
    if rest in module._parameters and module._parameters[rest] is not None:
        return rest
    for i, ch in enumerate(rest):
        if ch == "_" and 0 < i < len(rest) - 1:
            child = module._modules.get(rest[:i])
            if child is not None:
                found = _parameter_at(child, rest[i + 1:])
                if found is not None:
                    return found
    return None


def infer_tags(module: torch.nn.Module, slot: str, slots: Optional[List[str]] = None) -> List[Any]:
    """Tags for quantizer slot ``slot`` of ``module`` when the stub carries none (the fallback
    for untagged stubs: ffq's default output, FastForward's, hand-written code; stubs from
    ``ffq autoquant --stub-tags`` carry their tags and never get here).

    ffq names its stubs ``quantizer_<base>[_<n>]`` (autoquant spec section 3; ``_<n>`` tells
    apart quantizers of the same base name). Rules, first match wins:

    * ``self_<path>`` where ``self.<path>`` is an ``nn.Parameter`` (``_`` may stand for ``.``:
      ``self_conv_weight`` is ``self.conv.weight``): ``parameter/weight`` when the parameter's
      name ends in ``weight``, ``parameter/bias`` when it ends in ``bias``, else ``parameter``;
    * ``<x>`` where ``x`` is a parameter of ``module.forward``: ``activation/input``. When
      ``x`` is also reassigned in ``forward`` there are several ``quantizer_x_<n>``; ffq
      creates the parameter's quantizer last, so only the highest ``n`` (among ``slots``,
      the module's slot names) is the input, the others are ``activation``;
    * ``<op>`` where ``op`` is an operator of ``fastforward.nn.functional``: ``activation/output``;
    * anything else (assigned variables, expressions, temporaries): ``activation``.
    """
    base = slot[len("quantizer_"):] if slot.startswith("quantizer_") else slot
    m = _SUFFIX.match(base)
    stem, number = (m.group(1), m.group(2)) if m and m.group(2) is not None else (base, None)
    candidates = [base] if number is None else [base, stem]
    try:
        forward_params = list(inspect.signature(type(module).forward).parameters)[1:]
    except (TypeError, ValueError):
        forward_params = []
    from fastforward.nn import functional

    ops = getattr(functional, "OPS", {})
    for name in candidates:
        if name.startswith("self_"):
            p = _parameter_at(module, name[5:])
            if p is not None:
                if p.endswith("weight"):
                    return [default_tags.weight_quantizer]
                if p.endswith("bias"):
                    return [default_tags.bias_quantizer]
                return [default_tags.parameter_quantizer]
    if base in forward_params:
        return [default_tags.input_quantizer]
    if number is not None and stem in forward_params:
        prefix = "quantizer_" + stem + "_" if slot.startswith("quantizer_") else stem + "_"
        numbers = [int(n[len(prefix):]) for n in (slots or [slot])
                   if n.startswith(prefix) and n[len(prefix):].isdigit()]
        if int(number) == max(numbers):
            return [default_tags.input_quantizer]
        return [default_tags.activation_quantizer]
    for name in candidates:
        if name in ops:
            return [default_tags.output_quantizer]
    return [default_tags.activation_quantizer]


def finish_tag_inference(module: torch.nn.Module) -> None:
    """Re-infer the tags of the slots whose tags were inferred, now that every slot of the
    module is known (run after ``__init_quantization__``)."""
    inferred = module.__dict__.get("_ff_inferred_slots")
    if not inferred:
        return
    slots = module.__dict__.get("_quantizer_metadata", {})
    names = list(slots)
    for name in list(inferred):
        old = slots.get(name)
        if old is None:
            continue
        tags = infer_tags(module, name, names)
        if {a for t in tags for a in t.hierarchy()} == set(old.tags):
            continue
        md = QuantizerMetadata(*tags, shape=old.shape)
        slots[name] = md
        quantizer = module._modules.get(name)
        if isinstance(quantizer, Quantizer):
            quantizer.quant_metadata = md


# --- enumeration ---------------------------------------------------------------------------------


def named_quantizers(module: torch.nn.Module, prefix: str = "", recurse: bool = True,
                     remove_duplicate: bool = True, skip_stubs: bool = True) -> Iterator[Tuple[str, Quantizer]]:
    """(path, quantizer) for the quantizers in ``module`` (the root included, as ``""``, when
    it is one). ``recurse=False``: direct children only."""
    seen = set()
    if recurse:
        items = module.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
    else:
        items = ((prefix + ("." if prefix else "") + n, c) for n, c in module.named_children())
    for name, sub in items:
        if not isinstance(sub, Quantizer):
            continue
        if remove_duplicate:
            if id(sub) in seen:
                continue
            seen.add(id(sub))
        if skip_stubs and sub.is_stub():
            continue
        yield name, sub


def quantizer_state_dict(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """State of the non-stub quantizers, keys prefixed with their path (for
    ``load_state_dict(sd, strict=False)``)."""
    out: Dict[str, torch.Tensor] = {}
    for name, q in named_quantizers(module):
        for key, value in q.state_dict().items():
            out[(name + "." if name else "") + key] = value
    return out


class QuantizerSummary(NamedTuple):
    """One group of ``summarize_quantizers``: quantizers whose ``repr`` is ``quantizer``,
    ``count`` of them, at ``paths`` (numeric path parts collapsed to ``[]``, each once)."""

    quantizer: str
    count: int
    paths: Tuple[str, ...]


class QuantizerSummaries(List[QuantizerSummary]):
    """What ``summarize_quantizers`` returns: the groups, most frequent first; ``str()``
    gives the text it writes."""

    def __str__(self) -> str:
        lines = []
        for group in self:
            lines.append("%d x %s" % (group.count, group.quantizer))
            lines.extend("    " + path for path in group.paths)
        return "\n".join(lines)


def summarize_quantizers(module: torch.nn.Module, writer: Any = None) -> QuantizerSummaries:
    """Quantizers grouped by repr, most frequent first (numeric path parts as ``[]``).
    ``writer`` gets the text: a stream (its ``write``) or a function such as ``print``."""
    groups: Dict[str, List[str]] = {}
    for name, q in named_quantizers(module):
        groups.setdefault(repr(q), []).append(re.sub(r"(^|\.)\d+(?=\.|$)", r"\1[]", name))
    summaries = QuantizerSummaries(
        QuantizerSummary(text, len(names), tuple(sorted(set(names))))
        for text, names in sorted(groups.items(), key=lambda kv: -len(kv[1])))
    if writer is not None:
        if hasattr(writer, "write"):
            writer.write(str(summaries) + "\n")
        else:
            writer(str(summaries))
    return summaries


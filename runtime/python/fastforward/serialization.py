"""YAML support for fastforward objects: ``yamlable`` classes dump as ``!ff.obj`` mappings.

``@yamlable`` on a class makes it and every subclass record the arguments each instance was
constructed with (deep-copied). With PyYAML, such an object dumps as::

    !ff.obj
    name: fastforward.nn.linear_quantizer.LinearQuantizer
    initargs: {args: [8], kwargs: {symmetric: false}}
    state: {num_bits: 8, ...}

``name`` is the qualified class name, ``initargs`` the recorded constructor arguments and
``state`` the object's plain (non-tensor, public) attributes. Loading calls the class with
the arguments and sets the state. ``torch.dtype`` values dump as ``!ff.dtype float32``.
``yaml.safe_load`` rebuilds only classes of modules already imported; ``yaml.load(...,
Loader=yaml.Loader)`` (or ``FullLoader`` / ``UnsafeLoader``) imports the module first.
Quantizers and granularities are yamlable; their tensors (scale, offset) are not part of
the YAML (they are saved in safetensors files, see ``save_quantization_state``).
"""

from __future__ import annotations

import copy
import functools
import importlib
import sys
from typing import Any, Dict, Tuple, Type, TypeVar

import torch

__all__ = ["from_plain", "initargs", "to_plain", "yamlable"]

T = TypeVar("T", bound=type)
_OBJ_TAG = "!ff.obj"
_DTYPE_TAG = "!ff.dtype"
_PLAIN = (bool, int, float, str, type(None), torch.dtype)


def _record(init: Any) -> Any:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The outermost constructor (the instance's own class) records; super() calls don't.
        if "_ff_initargs" not in self.__dict__:
            try:
                recorded = (copy.deepcopy(args), copy.deepcopy(kwargs))
            except Exception:  # noqa: BLE001 - an argument that cannot be copied is kept as is
                recorded = (args, dict(kwargs))
            object.__setattr__(self, "_ff_initargs", recorded)
        init(self, *args, **kwargs)

    __init__._ff_records = True  # type: ignore[attr-defined]
    return __init__


def _wrap_init(cls: type) -> None:
    init = cls.__dict__.get("__init__")
    if init is not None and not getattr(init, "_ff_records", False):
        cls.__init__ = _record(init)  # type: ignore[misc]


def yamlable(cls: T) -> T:
    """Make ``cls`` and its subclasses record constructor arguments and dump to YAML."""
    _wrap_init(cls)
    previous = cls.__dict__.get("__init_subclass__")

    def __init_subclass__(sub: type, **kwargs: Any) -> None:
        if previous is not None:
            previous.__func__(sub, **kwargs)
        else:
            super(cls, sub).__init_subclass__(**kwargs)  # type: ignore[misc]
        _wrap_init(sub)

    cls.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    cls._ff_yamlable = True  # type: ignore[attr-defined]
    _register(cls)
    return cls


def initargs(obj: Any) -> Tuple[tuple, Dict[str, Any]]:
    """The ``(args, kwargs)`` ``obj`` was constructed with (empty when not recorded)."""
    return obj.__dict__.get("_ff_initargs", ((), {}))


def _state(obj: Any) -> Dict[str, Any]:
    def plain(value: Any) -> bool:
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return isinstance(value, _PLAIN) or getattr(type(value), "_ff_yamlable", False)

    return {k: v for k, v in vars(obj).items() if not k.startswith("_") and plain(v)}


def _qualified_name(cls: type) -> str:
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def _resolve(name: str, may_import: bool) -> type:
    module_name, _, attr = name.rpartition(".")
    while module_name:
        module = sys.modules.get(module_name)
        if module is None and may_import:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                module = None
        if module is not None:
            obj: Any = module
            for part in name[len(module_name) + 1:].split("."):
                obj = getattr(obj, part)
            if not getattr(obj, "_ff_yamlable", False):
                raise ValueError("%s is not a yamlable class" % name)
            return obj
        module_name, _, attr = module_name.rpartition(".")
    raise ValueError("cannot find the class %s (import its module first)" % name)


def _register(cls: type) -> None:
    try:
        import yaml
    except ImportError:  # PyYAML is optional: without it nothing dumps to YAML
        return
    for dumper in (yaml.Dumper, yaml.SafeDumper):
        yaml.add_multi_representer(cls, _represent_obj, Dumper=dumper)
    if getattr(_register, "done", False):
        return
    _register.done = True  # type: ignore[attr-defined]
    for dumper in (yaml.Dumper, yaml.SafeDumper):
        yaml.add_representer(torch.dtype, _represent_dtype, Dumper=dumper)
    loaders = [(yaml.SafeLoader, False)] + [
        (getattr(yaml, n), True) for n in ("Loader", "FullLoader", "UnsafeLoader") if hasattr(yaml, n)]
    for loader, may_import in loaders:
        yaml.add_constructor(_OBJ_TAG, _constructor(may_import), Loader=loader)
        yaml.add_constructor(_DTYPE_TAG, _construct_dtype, Loader=loader)


def _represent_obj(dumper: Any, obj: Any) -> Any:
    args, kwargs = initargs(obj)
    mapping = {"name": _qualified_name(type(obj)),
               "initargs": {"args": _lists(list(args)), "kwargs": _lists(dict(kwargs))},
               "state": _lists(_state(obj))}
    return dumper.represent_mapping(_OBJ_TAG, mapping)


def _lists(value: Any) -> Any:
    """Tuples as lists, recursively (plain YAML, readable by ``yaml.safe_load``)."""
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def _represent_dtype(dumper: Any, dtype: torch.dtype) -> Any:
    return dumper.represent_scalar(_DTYPE_TAG, str(dtype).replace("torch.", ""))


def _constructor(may_import: bool) -> Any:
    def construct(loader: Any, node: Any) -> Any:
        spec = loader.construct_mapping(node, deep=True)
        target: Type[Any] = _resolve(spec["name"], may_import)
        init = spec.get("initargs") or {}
        obj = target(*init.get("args", ()), **init.get("kwargs", {}))
        for key, value in (spec.get("state") or {}).items():
            if isinstance(value, list) and isinstance(getattr(obj, key, None), tuple):
                value = tuple(value)  # YAML has lists only; keep the attribute's tuple type
            setattr(obj, key, value)
        return obj

    return construct


def _construct_dtype(loader: Any, node: Any) -> torch.dtype:
    name = loader.construct_scalar(node)
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError("unknown torch dtype %r" % name)
    return dtype


# --- the same description as plain JSON-able data ------------------------------------------------

_OBJ_KEY = "!ff.obj"
_DTYPE_KEY = "!ff.dtype"


def to_plain(value: Any) -> Any:
    """``value`` as JSON-able data mirroring the YAML form: a yamlable object becomes
    ``{"!ff.obj": {"name", "initargs", "state"}}``, a dtype ``{"!ff.dtype": name}``, tuples
    lists. ``TypeError`` for anything else that is not a plain number, string, bool or None."""
    if getattr(type(value), "_ff_yamlable", False):
        args, kwargs = initargs(value)
        return {_OBJ_KEY: {"name": _qualified_name(type(value)),
                           "initargs": {"args": to_plain(list(args)), "kwargs": to_plain(dict(kwargs))},
                           "state": to_plain(_state(value))}}
    if isinstance(value, torch.dtype):
        return {_DTYPE_KEY: str(value).replace("torch.", "")}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("cannot describe a dict with non-string keys: %r" % (value,))
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    raise TypeError("cannot describe %s as plain data (only yamlable objects, dtypes, numbers, "
                    "strings and containers of them)" % type(value).__qualname__)


def from_plain(value: Any) -> Any:
    """The object ``to_plain`` described. Classes are looked up among modules already imported
    (nothing is imported) and must be yamlable."""
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_DTYPE_KEY}:
            dtype = getattr(torch, str(value[_DTYPE_KEY]), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError("unknown torch dtype %r" % (value[_DTYPE_KEY],))
            return dtype
        if set(value) == {_OBJ_KEY}:
            spec = value[_OBJ_KEY]
            target = _resolve(spec["name"], False)
            init = spec.get("initargs") or {}
            obj = target(*from_plain(init.get("args", [])), **from_plain(init.get("kwargs", {})))
            for key, item in from_plain(spec.get("state") or {}).items():
                if isinstance(item, list) and isinstance(getattr(obj, key, None), tuple):
                    item = tuple(item)
                setattr(obj, key, item)
            return obj
        return {k: from_plain(v) for k, v in value.items()}
    return value

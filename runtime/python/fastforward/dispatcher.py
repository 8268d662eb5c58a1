"""The dispatcher: op name -> kernels, each guarded by a predicate and a priority.

``register(op, predicate, kernel, priority)`` adds a kernel; ``dispatch(op, *args,
**kwargs)`` returns the first applicable kernel (lowest priority value first, and within a
priority the most recently registered first) or None. Functional ops (called with keywords)
and ``QuantizedTensor.__torch_function__`` (called with the torch call's own arguments)
share one namespace of op names. This module owns the registry.
"""

from __future__ import annotations

import enum
import inspect
import itertools
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = [
    "DispatcherItem",
    "DispatcherPriority",
    "DispatcherRegistrationHook",
    "Predicate",
    "dispatch",
    "register",
    "registered_kernels",
]

Kernel = Callable[..., Any]

# A kernel may carry ``kernel.try_call(*args, **kwargs)``: its predicate and itself in one
# call, returning the kernel's result, or MISS where the predicate would have refused.
# ``call`` (fastforward.nn.functional and QuantizedTensor.__torch_function__) uses it for
# the first kernel of an op and, when it misses, asks the predicates of the other kernels
# (the first one's has just refused).
MISS = object()


class DispatcherPriority(enum.IntEnum):
    """Kernels of a lower value are tried first."""

    DEFAULT = 0
    FALLBACK = 1
    NOT_IMPLEMENTED_FALLBACK = 2


class Predicate:
    """A boolean function of the call's arguments; composes with ``&``, ``|`` and ``~``."""

    def __init__(self, fn: Callable[..., bool]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self.fn(*args, **kwargs))

    def __and__(self, other: Callable[..., bool]) -> "Predicate":
        left, right = self, _as_predicate(other)
        return Predicate(_named(lambda *a, **k: left(*a, **k) and right(*a, **k), "and", left, right))

    def __or__(self, other: Callable[..., bool]) -> "Predicate":
        left, right = self, _as_predicate(other)
        return Predicate(_named(lambda *a, **k: left(*a, **k) or right(*a, **k), "or", left, right))

    def __invert__(self) -> "Predicate":
        inner = self
        return Predicate(_named(lambda *a, **k: not inner(*a, **k), "not", inner))

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", repr(self.fn))
        try:
            sig = str(inspect.signature(self.fn))
        except (TypeError, ValueError):
            sig = "(...)"
        return "Predicate(%s%s)" % (name, sig)


def _as_predicate(fn: Callable[..., bool]) -> Predicate:
    return fn if isinstance(fn, Predicate) else Predicate(fn)


def _named(fn: Callable[..., bool], how: str, *parts: Predicate) -> Callable[..., bool]:
    fn.__name__ = "(%s)" % (" %s " % how).join(
        getattr(p.fn, "__name__", "?") for p in parts
    ) if how != "not" else "not %s" % getattr(parts[0].fn, "__name__", "?")
    return fn


def _always(*args: Any, **kwargs: Any) -> bool:
    return True


class DispatcherItem:
    """One registered kernel."""

    __slots__ = ("predicate", "fn", "priority")

    def __init__(self, predicate: Predicate, fn: Kernel, priority: DispatcherPriority) -> None:
        self.predicate = predicate
        self.fn = fn
        self.priority = priority

    def __repr__(self) -> str:
        return "DispatcherItem(%r, %s, %s)" % (
            self.predicate,
            getattr(self.fn, "__name__", self.fn),
            self.priority.name,
        )


# op name -> [(priority, -sequence, item)], kept sorted.
_registry: Dict[str, List[Tuple[int, int, DispatcherItem]]] = {}
_sequence = itertools.count()


class DispatcherRegistrationHook:
    """Handle of a registration; as a context manager it unregisters on exit."""

    def __init__(self, op_name: str, entry: Tuple[int, int, DispatcherItem]) -> None:
        self.op_name = op_name
        self._entry = entry

    @property
    def item(self) -> DispatcherItem:
        return self._entry[2]

    def remove(self) -> None:
        """Unregister the kernel (no-op when already removed)."""
        entries = _registry.get(self.op_name, [])
        if self._entry in entries:
            entries.remove(self._entry)

    def __enter__(self) -> "DispatcherRegistrationHook":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _add(op_name: str, predicate: Optional[Callable[..., bool]], kernel: Kernel,
         priority: DispatcherPriority) -> DispatcherRegistrationHook:
    if not isinstance(op_name, str):
        raise TypeError("dispatcher.register: op name must be a str, got %r" % (op_name,))
    if not callable(kernel):
        raise TypeError("dispatcher.register(%r): kernel %r is not callable" % (op_name, kernel))
    pred = Predicate(_always) if predicate is None else _as_predicate(predicate)
    item = DispatcherItem(pred, kernel, DispatcherPriority(priority))
    entry = (int(item.priority), -next(_sequence), item)
    entries = _registry.setdefault(op_name, [])
    entries.append(entry)
    entries.sort(key=lambda e: (e[0], e[1]))
    return DispatcherRegistrationHook(op_name, entry)


def register(
    op_name: str,
    predicate: Optional[Callable[..., bool]] = None,
    kernel: Optional[Kernel] = None,
    priority: Union[DispatcherPriority, int] = DispatcherPriority.DEFAULT,
) -> Any:
    """Register ``kernel`` for ``op_name`` (returns a hook), or without a kernel return a
    decorator that registers the decorated function permanently."""
    if kernel is not None:
        return _add(op_name, predicate, kernel, DispatcherPriority(priority))

    def decorator(fn: Kernel) -> Kernel:
        _add(op_name, predicate, fn, DispatcherPriority(priority))
        return fn

    return decorator


def dispatch(op_name: str, *args: Any, **kwargs: Any) -> Optional[Kernel]:
    """The first kernel registered for ``op_name`` whose predicate accepts the arguments."""
    return _first_applicable(_registry.get(op_name, ()), 0, args, kwargs)


def _first_applicable(entries: Any, start: int, args: Any, kwargs: Any) -> Optional[Kernel]:
    """The first kernel of ``entries[start:]`` whose predicate accepts the arguments (a copy
    is walked: a predicate may register or remove kernels)."""
    for _, _, item in list(entries)[start:]:
        if item.predicate(*args, **kwargs):
            return item.fn
    return None


def _after_miss(entries: Any, first_fn: Any, args: Any, kwargs: Any) -> Optional[Kernel]:
    """The kernel to run once the first kernel's ``try_call`` missed: its predicate refused,
    so the search goes on from the second entry — unless the registry changed meanwhile
    (then from the start, as ``dispatch`` does)."""
    return _first_applicable(entries, 1 if entries and entries[0][2].fn is first_fn else 0, args, kwargs)


def call(op_name: str, *args: Any, **kwargs: Any) -> Any:
    """``dispatch(op_name, ...)(...)``: the first applicable kernel's result, or MISS when
    no kernel applies."""
    entries = _registry.get(op_name)
    if not entries:
        return MISS
    first = entries[0][2].fn
    try_call = getattr(first, "try_call", None)
    if try_call is not None:
        result = try_call(*args, **kwargs)
        if result is not MISS:
            return result
        kernel = _after_miss(entries, first, args, kwargs)
    else:
        kernel = dispatch(op_name, *args, **kwargs)
    return MISS if kernel is None else kernel(*args, **kwargs)


def registered_kernels(op_name: str) -> List[DispatcherItem]:
    """The kernels of ``op_name`` in lookup order."""
    return [item for _, _, item in _registry.get(op_name, ())]

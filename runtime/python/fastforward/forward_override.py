"""Overrides: functions wrapped around a quantizer's ``quantize`` (range estimators,
quantization switches). The newest override runs first; each decides whether to call the
next one."""

from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable, Dict, Sequence

__all__ = ["OverrideFn", "OverrideHandle", "apply_overrides"]

# override(quantizer, next_callable, args, kwargs) -> result
OverrideFn = Callable[[Any, Callable[..., Any], Sequence[Any], Dict[str, Any]], Any]

_handle_ids = itertools.count(1)
_last_loaded_id = [0]  # the largest handle id that came back with an unpickled quantizer


def _next_handle_id() -> int:
    """A new handle id: above every id issued here and every id of an unpickled quantizer's
    overrides (which were issued by another process's counter)."""
    while True:
        handle_id = next(_handle_ids)
        if handle_id > _last_loaded_id[0]:
            return handle_id


def note_loaded_handle_ids(ids: Any) -> None:
    """Record override handle ids that came back with an unpickled quantizer."""
    for handle_id in ids:
        if isinstance(handle_id, int) and handle_id > _last_loaded_id[0]:
            _last_loaded_id[0] = handle_id


class OverrideHandle:
    """Handle of a registered override; ``remove()`` or leave a with block to remove it."""

    def __init__(self, quantizer: Any) -> None:
        self.handle_id = _next_handle_id()
        self._quantizer = weakref.ref(quantizer)

    # A handle is kept by whatever registered the override (a DisableQuantizationOverride,
    # ff.quantize's state on the model): pickled with the model, it holds its quantizer as a
    # plain reference (the same object in the pickle) and weakly again once loaded.
    def __getstate__(self) -> Dict[str, Any]:
        return {"handle_id": self.handle_id, "quantizer": self._quantizer()}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.handle_id = state["handle_id"]
        note_loaded_handle_ids([self.handle_id])
        quantizer = state["quantizer"]
        self._quantizer = weakref.ref(quantizer) if quantizer is not None else _dead

    def remove(self) -> Any:
        """Remove the override; returns it (None if already gone)."""
        quantizer = self._quantizer()
        if quantizer is None:
            return None
        return quantizer.remove_override(self.handle_id)

    def __enter__(self) -> "OverrideHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _dead() -> None:
    return None


def apply_overrides(
    quantizer: Any, overrides: Sequence[OverrideFn], fn: Callable[..., Any], args: Sequence[Any],
    kwargs: Dict[str, Any],
) -> Any:
    """Call ``fn(*args, **kwargs)`` through ``overrides`` (oldest first; newest runs first)."""

    def call(level: int) -> Callable[..., Any]:
        if level < 0:
            return fn

        def next_callable(*a: Any, **k: Any) -> Any:
            return overrides[level](quantizer, call(level - 1), a, k)

        return next_callable

    return call(len(overrides) - 1)(*args, **kwargs)

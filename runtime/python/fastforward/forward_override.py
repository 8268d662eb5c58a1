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


class OverrideHandle:
    """Handle of a registered override; ``remove()`` or leave a with block to remove it."""

    def __init__(self, quantizer: Any) -> None:
        self.handle_id = next(_handle_ids)
        self._quantizer = weakref.ref(quantizer)

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

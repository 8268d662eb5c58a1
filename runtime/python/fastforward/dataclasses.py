"""Dataclass helpers for parameter records (quantization parameters are dataclasses).

``replace_fields(obj, **changes)`` is ``dataclasses.replace``; ``map_fields(obj, fn)``
applies ``fn`` to every field value and returns a new record (values ``fn`` returns
unchanged stay shared, nothing is copied).
"""

from __future__ import annotations

import dataclasses as _dc
from typing import Any, Callable, TypeVar

__all__ = ["map_fields", "replace_fields"]

T = TypeVar("T")


def replace_fields(obj: T, **changes: Any) -> T:
    """A copy of the dataclass instance ``obj`` with ``changes`` applied."""
    return _dc.replace(obj, **changes)  # type: ignore[type-var]


def map_fields(obj: T, fn: Callable[[Any], Any]) -> T:
    """A copy of ``obj`` whose every field is ``fn(value)`` (init fields only)."""
    changes = {f.name: fn(getattr(obj, f.name)) for f in _dc.fields(obj) if f.init}  # type: ignore[arg-type]
    return _dc.replace(obj, **changes)  # type: ignore[type-var]

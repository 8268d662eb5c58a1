"""Global switches: strict quantization and export mode (each as X / set_X / get_X)."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

__all__ = [
    "context",
    "export_mode",
    "get_export_mode",
    "get_strict_quantization",
    "set_export_mode",
    "set_strict_quantization",
    "strict_quantization",
]

_flags = {"strict_quantization": True, "export_mode": False}


def set_strict_quantization(value: bool = True) -> None:
    """Turn strict quantization on (the default) or off globally."""
    _flags["strict_quantization"] = bool(value)


def get_strict_quantization() -> bool:
    """Whether implicit dequantization of a QuantizedTensor is an error."""
    return _flags["strict_quantization"]


def set_export_mode(value: bool = True) -> None:
    """Turn export mode on or off globally."""
    _flags["export_mode"] = bool(value)


def get_export_mode() -> bool:
    """Whether quantization functions return dequantized values (export mode)."""
    return _flags["export_mode"]


@contextlib.contextmanager
def _flag(name: str, value: bool) -> Iterator[None]:
    saved = _flags[name]
    _flags[name] = bool(value)
    try:
        yield
    finally:
        _flags[name] = saved


def strict_quantization(value: bool = True) -> "contextlib.AbstractContextManager[None]":
    """Context manager setting strict quantization for the duration of a with block."""
    return _flag("strict_quantization", value)


def export_mode(value: bool = True) -> "contextlib.AbstractContextManager[None]":
    """Context manager setting export mode for the duration of a with block."""
    return _flag("export_mode", value)


def context(flag: Callable[[bool], Any], value: bool) -> Callable[[Callable], Callable]:
    """Decorator running a function with ``flag`` (e.g. ``strict_quantization``) set."""

    def decorate(fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with flag(value):
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate

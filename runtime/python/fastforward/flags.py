"""Global switches: strict quantization and export mode (each as X / set_X / get_X)."""

from __future__ import annotations

from typing import Any, Callable

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


def set_strict_quantization(value: bool = True) -> "_FlagSetting":
    """Turn strict quantization on (the default) or off globally (a with block restores)."""
    return _FlagSetting("strict_quantization", value)


def get_strict_quantization() -> bool:
    """Whether implicit dequantization of a QuantizedTensor is an error."""
    return _flags["strict_quantization"]


def set_export_mode(value: bool = True) -> "_FlagSetting":
    """Turn export mode on or off globally (a with block restores)."""
    return _FlagSetting("export_mode", value)


def get_export_mode() -> bool:
    """Whether quantization functions return dequantized values (export mode)."""
    return _flags["export_mode"]


class _FlagSetting:
    """Sets a flag when created; leaving a with block (or ``restore()``) puts the previous
    value back. So ``strict_quantization(False)`` alone changes the flag for good, and
    ``with strict_quantization(False):`` scopes it."""

    def __init__(self, name: str, value: bool) -> None:
        self.name = name
        self.previous = _flags[name]
        _flags[name] = bool(value)

    def restore(self) -> None:
        _flags[self.name] = self.previous

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        self.restore()


def _flag(name: str, value: bool) -> _FlagSetting:
    return _FlagSetting(name, value)


def strict_quantization(value: bool = True) -> _FlagSetting:
    """Set strict quantization now; as a context manager, restore the old value at exit."""
    return _flag("strict_quantization", value)


def export_mode(value: bool = True) -> _FlagSetting:
    """Set export mode now; as a context manager, restore the old value at exit."""
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

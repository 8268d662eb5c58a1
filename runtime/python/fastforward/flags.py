"""Global switches, each as ``X(value)`` / ``set_X(value)`` / ``get_X()``:

* ``strict_quantization`` (default True): implicit dequantization is an error;
* ``export_mode`` (False): quantization functions return dequantized values;
* ``sdpa_torch_fallback_allowed`` (True in ffq, False in FastForward): attention with no
  active intermediate quantizer runs torch's fused kernel;
* ``compiled_quant_funcs`` (False): accepted for compatibility; ffq's kernels are C code
  and are not run through ``torch.compile``, so the flag changes nothing.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

__all__ = [
    "compiled_quant_funcs",
    "context",
    "get_compiled_quant_funcs",
    "get_sdpa_torch_fallback_allowed",
    "sdpa_torch_fallback_allowed",
    "set_compiled_quant_funcs",
    "set_sdpa_torch_fallback_allowed",
    "export_mode",
    "get_export_mode",
    "get_strict_quantization",
    "set_export_mode",
    "set_strict_quantization",
    "strict_quantization",
]

# ffq's sdpa default differs from FastForward's: with no active intermediate quantizer (stubs,
# as ffq generates them) attention is torch's own kernel, so a freshly converted model
# computes bitwise what the float model computes.
_flags = {
    "strict_quantization": True,
    "export_mode": False,
    "sdpa_torch_fallback_allowed": True,
    "compiled_quant_funcs": False,
}


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


def sdpa_torch_fallback_allowed(value: bool = True) -> _FlagSetting:
    """Allow (or forbid) torch's fused attention when no intermediate quantizer is active;
    set now, restored at the end of a with block."""
    return _flag("sdpa_torch_fallback_allowed", value)


set_sdpa_torch_fallback_allowed = sdpa_torch_fallback_allowed


def get_sdpa_torch_fallback_allowed() -> bool:
    return _flags["sdpa_torch_fallback_allowed"]


def compiled_quant_funcs(value: bool = True) -> _FlagSetting:
    """Set the (no-op in ffq) compiled-kernels flag now; a with block restores it."""
    return _flag("compiled_quant_funcs", value)


set_compiled_quant_funcs = compiled_quant_funcs


def get_compiled_quant_funcs() -> bool:
    return _flags["compiled_quant_funcs"]


def context(flag: Callable[[bool], Any], value: bool) -> Callable[[Callable], Callable]:
    """Decorator running a function with ``flag`` (e.g. ``strict_quantization``) set."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with flag(value):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def _snapshot() -> dict:
    """Every flag's current value (for ``fastforward.testing.isolated_state``)."""
    return dict(_flags)


def _restore(saved: dict) -> None:
    _flags.clear()
    _flags.update(saved)

"""Switching quantization off and on, with quantizer overrides.

``with disable_quantization(model):`` makes every (non-stub) quantizer of ``model`` return its
input unchanged and turns strict quantization off for the block; ``with
enable_quantization(model):`` lets data through to quantization again inside such a block.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Sequence

import torch

from fastforward.flags import strict_quantization
from fastforward.nn.quantizer import Quantizer

__all__ = ["DisableQuantizationOverride", "disable_quantization", "enable_quantization"]


class _Restore:
    def __init__(self, fn: Callable[[], None]) -> None:
        self._fn = fn

    def __enter__(self) -> "_Restore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._fn()


class DisableQuantizationOverride:
    """An override that returns the input unquantized while ``quantization_enabled`` is
    false (the initial state)."""

    def __init__(self) -> None:
        self.quantization_enabled = False
        self._handles: List[Any] = []

    def __call__(self, quantizer: Any, callback: Callable[..., Any], args: Sequence[Any],
                 kwargs: Dict[str, Any]) -> Any:
        if self.quantization_enabled:
            return callback(*args, **kwargs)
        return args[0] if args else kwargs["data"]

    def enable_quantization(self, enabled: bool = True) -> _Restore:
        """Switch now; the returned context manager restores the previous state."""
        previous = self.quantization_enabled
        self.quantization_enabled = bool(enabled)
        return _Restore(lambda: setattr(self, "quantization_enabled", previous))

    def disable_quantization(self) -> _Restore:
        return self.enable_quantization(False)

    def attach_to(self, quantizers: Any) -> "DisableQuantizationOverride":
        """Register on a quantizer, a collection of search results, or an iterable."""
        if isinstance(quantizers, Quantizer):
            quantizers = [quantizers]
        for q in quantizers:
            q = getattr(q, "module", q)
            if isinstance(q, Quantizer):
                self._handles.append(q.register_override(self))
        return self

    def detach(self) -> None:
        """Remove this override from everything ``attach_to`` attached it to."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _real_quantizers(model: torch.nn.Module) -> Iterable[Quantizer]:
    seen = set()
    for module in model.modules():
        if isinstance(module, Quantizer) and not module.is_stub() and id(module) not in seen:
            seen.add(id(module))
            yield module


@contextlib.contextmanager
def disable_quantization(model: torch.nn.Module) -> Iterator[DisableQuantizationOverride]:
    """Within the block every non-stub quantizer of ``model`` passes data through unchanged,
    and strict quantization is off."""
    override = DisableQuantizationOverride().attach_to(list(_real_quantizers(model)))
    try:
        with strict_quantization(False):
            yield override
    finally:
        override.detach()


@contextlib.contextmanager
def enable_quantization(model: torch.nn.Module) -> Iterator[None]:
    """Within the block, quantizers of ``model`` that a ``disable_quantization`` switched off
    quantize again (the strict flag is not touched)."""
    restores = []
    for q in _real_quantizers(model):
        for fn in q.overrides:
            # not the switch with which fastforward.quantize holds activations back until
            # calibrated: such a quantizer has no range yet (quantizing raised "uninitialized")
            if isinstance(fn, DisableQuantizationOverride) and not getattr(fn, "until_calibrated", False):
                restores.append(fn.enable_quantization(True))
    try:
        yield
    finally:
        for r in reversed(restores):
            r.__exit__(None, None, None)

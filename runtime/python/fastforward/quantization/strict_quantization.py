"""Strict quantization per module: the global flag set for the duration of a module's
forward (forward pre/post hooks)."""

from __future__ import annotations

from typing import Any, List

import torch

from fastforward.flags import _FlagSetting

__all__ = ["ModuleStrictQuantHandle", "strict_quantization_for_module"]


class ModuleStrictQuantHandle:
    """The hooks installed by ``strict_quantization_for_module``; ``remove()`` or leave a
    with block to take them away."""

    def __init__(self) -> None:
        self._handles: List[Any] = []

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> "ModuleStrictQuantHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def strict_quantization_for_module(strict: bool = True, *modules: torch.nn.Module) -> ModuleStrictQuantHandle:
    """While each listed module runs its forward, strict quantization is ``strict``."""
    handle = ModuleStrictQuantHandle()
    for module in modules:
        stack: List[_FlagSetting] = []

        def pre(mod: Any, args: Any, _stack: List[_FlagSetting] = stack) -> None:
            _stack.append(_FlagSetting("strict_quantization", strict))

        def post(mod: Any, args: Any, output: Any, _stack: List[_FlagSetting] = stack) -> None:
            if _stack:
                _stack.pop().restore()

        handle._handles.append(module.register_forward_pre_hook(pre))
        try:  # torch >= 2.0: also restore the flag when forward raises
            handle._handles.append(module.register_forward_hook(post, always_call=True))
        except TypeError:
            handle._handles.append(module.register_forward_hook(post))
    return handle

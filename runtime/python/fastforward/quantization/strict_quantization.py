"""Strict quantization per module: the global flag set for the duration of a module's
forward (forward pre/post hooks), and restored also when the forward raises."""

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

        try:  # torch >= 2.1: the post hook also runs when forward raises
            post_handle = module.register_forward_hook(post, always_call=True)
        except TypeError:
            post_handle = _ForwardWrapper(module, post)
        handle._handles.append(module.register_forward_pre_hook(pre))
        handle._handles.append(post_handle)
    return handle


class _ForwardWrapper:
    """Older torch has no ``always_call`` hooks: the instance's ``forward`` is wrapped so
    that ``post`` runs in a ``finally``, also when forward raises. ``remove()`` unwraps."""

    def __init__(self, module: torch.nn.Module, post: Any) -> None:
        self.module = module
        inner = module.forward

        def forward(*args: Any, **kwargs: Any) -> Any:
            try:
                return inner(*args, **kwargs)
            finally:
                post(module, args, None)

        self.forward = forward
        module.forward = forward  # type: ignore[method-assign]

    def remove(self) -> None:
        if self.module.__dict__.get("forward") is self.forward:
            del self.module.__dict__["forward"]

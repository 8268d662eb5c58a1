"""Strict quantization per module: the global flag set for the duration of a module's
forward (forward pre/post hooks), and restored also when the forward raises."""

from __future__ import annotations

import functools
from typing import Any, List

import torch

from fastforward.flags import _FlagSetting

__all__ = ["ModuleStrictQuantHandle", "mark_non_strict", "strict_quantization_for_module"]


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


# The settings of the hooks of every module now running, oldest first. A post hook takes its
# own setting out wherever it is: at the end it restores the flag; before a newer one, it
# hands the value to restore on to that one. So hooks that end out of order still leave the
# flag as it was: torch runs post hooks in registration order, not reversed, and two strict
# hooks on one module (ff.quantize's mark and a qmodule_state mode) left it False for good.
_running: List[_FlagSetting] = []


def _strict_pre(strict: bool, stack: List[_FlagSetting], mod: Any, args: Any) -> None:
    setting = _FlagSetting("strict_quantization", strict)
    _running.append(setting)
    stack.append(setting)


def _strict_post(stack: List[_FlagSetting], mod: Any, args: Any, output: Any) -> None:
    if not stack:
        return
    setting = stack.pop()
    at = next((i for i in range(len(_running) - 1, -1, -1) if _running[i] is setting), None)
    if at is None:
        setting.restore()
    elif at == len(_running) - 1:
        _running.pop()
        setting.restore()
    else:
        _running[at + 1].previous = setting.previous
        del _running[at]


def strict_quantization_for_module(strict: bool = True, *modules: torch.nn.Module) -> ModuleStrictQuantHandle:
    """While each listed module runs its forward, strict quantization is ``strict``.

    The hooks are partial applications of module-level functions, so a module carrying them
    still pickles (``torch.save(model)``)."""
    handle = ModuleStrictQuantHandle()
    for module in modules:
        stack: List[_FlagSetting] = []
        pre = functools.partial(_strict_pre, strict, stack)
        post = functools.partial(_strict_post, stack)
        try:  # torch >= 2.1: the post hook also runs when forward raises
            post_handle = module.register_forward_hook(post, always_call=True)
        except TypeError:
            post_handle = _ForwardWrapper(module, post)
        handle._handles.append(module.register_forward_pre_hook(pre))
        handle._handles.append(post_handle)
    return handle


class _StrictForward:
    """The instance's ``forward`` while wrapped (``_ForwardWrapper``): the forward it
    replaced (an instance attribute, or the class's method), then ``post`` in a ``finally``.
    An object of a module-level class, so a wrapped module still pickles."""

    def __init__(self, module: torch.nn.Module, post: Any, inner: Any) -> None:
        self.module, self.post, self.inner = module, post, inner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        inner = self.inner if self.inner is not None else type(self.module).forward.__get__(self.module)
        try:
            return inner(*args, **kwargs)
        finally:
            self.post(self.module, args, None)


class _ForwardWrapper:
    """Older torch has no ``always_call`` hooks: the instance's ``forward`` is wrapped so
    that ``post`` runs in a ``finally``, also when forward raises. ``remove()`` unwraps."""

    def __init__(self, module: torch.nn.Module, post: Any) -> None:
        self.module = module
        self.forward = _StrictForward(module, post, module.__dict__.get("forward"))
        module.forward = self.forward  # type: ignore[method-assign]

    def remove(self) -> None:
        """Take this wrapper out of the chain of wrapped forwards, wherever it is in it: the
        outermost gives the instance back the forward it wrapped (another wrapper's, kept);
        an inner one is skipped by the wrapper around it. (Deleting the instance's forward
        dropped the older wrappers inside: their pre hooks then set the flag with no post
        hook to restore it.)"""
        current = self.module.__dict__.get("forward")
        if current is self.forward:
            if self.forward.inner is None:
                del self.module.__dict__["forward"]
            else:
                self.module.__dict__["forward"] = self.forward.inner
            return
        while isinstance(current, _StrictForward):
            if current.inner is self.forward:
                current.inner = self.forward.inner
                return
            current = current.inner


def mark_non_strict(model: torch.nn.Module) -> ModuleStrictQuantHandle:
    """Run ``model`` without strict quantization, for good (what ``fastforward.quantize``
    does: its models keep float operations on quantized values). The mark travels with the
    model's state: ``state_dict`` / ``save_quantization_state`` / ``save_quantized_model``
    record it, and loading that state into a fresh copy marks the copy. Marking twice
    installs nothing new."""
    handle = model.__dict__.get("_ff_strict_handle")
    if model.__dict__.get("_ff_strict") is False and handle is not None:
        return handle
    handle = strict_quantization_for_module(False, model)
    model.__dict__["_ff_strict"] = False
    model.__dict__["_ff_strict_handle"] = handle
    return handle


def is_marked_non_strict(model: torch.nn.Module) -> bool:
    return model.__dict__.get("_ff_strict") is False

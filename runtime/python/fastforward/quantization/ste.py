"""Straight-through estimators: forward a function's value, backward the identity."""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

__all__ = ["STEAutogradFunc", "round_ste", "ste"]


class STEAutogradFunc(torch.autograd.Function):
    """Returns a precomputed value; the gradient w.r.t. the first input is the identity."""

    @staticmethod
    def forward(ctx: Any, data: torch.Tensor, value: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return value

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        return grad, None


def ste(func: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Wrap ``func(x, ...)`` so that its gradient w.r.t. ``x`` is the identity."""

    @functools.wraps(func)
    def wrapper(data: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        with torch.no_grad():
            value = func(data, *args, **kwargs)
        if value.shape != data.shape:
            raise RuntimeError(
                "ste(%s): output shape %s differs from input shape %s"
                % (getattr(func, "__name__", func), tuple(value.shape), tuple(data.shape))
            )
        if not (torch.is_grad_enabled() and data.requires_grad):
            return value
        return STEAutogradFunc.apply(data, value)

    return wrapper


round_ste = ste(torch.round)
round_ste.__doc__ = "Round half to even; the gradient is the identity."

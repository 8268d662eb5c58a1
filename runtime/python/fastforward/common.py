"""Small helpers shared by the package."""

from __future__ import annotations

from typing import Any, Callable, Optional, TypeVar, Union

import torch

__all__ = ["ensure_tensor", "maybe_tensor_apply", "safe_for_torch_load", "tensor_or_none"]

T = TypeVar("T")


def ensure_tensor(
    maybe_tensor: Union[torch.Tensor, float, int, bool, Any],
    device: Optional[Union[torch.device, str]] = None,
) -> torch.Tensor:
    """``maybe_tensor`` itself if it is a tensor, else a new tensor of it on ``device``."""
    if isinstance(maybe_tensor, torch.Tensor):
        return maybe_tensor
    return torch.tensor(maybe_tensor, device=device)


def maybe_tensor_apply(value: T, fn: Callable[[torch.Tensor], Any]) -> Any:
    """``fn(value)`` when ``value`` is a tensor, else ``value`` unchanged."""
    return fn(value) if isinstance(value, torch.Tensor) else value


def tensor_or_none(value: Any) -> Optional[torch.Tensor]:
    """``value`` when it is a tensor, else None."""
    return value if isinstance(value, torch.Tensor) else None


def safe_for_torch_load(*objects: Any) -> None:
    """Allow ``torch.load``'s default ``weights_only`` unpickler (torch >= 2.4) to rebuild
    these fastforward classes and functions (plain data holders only)."""
    add = getattr(getattr(torch, "serialization", None), "add_safe_globals", None)
    if add is not None:
        add(list(objects))

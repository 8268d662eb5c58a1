"""Affine quantization kernels as torch custom operators, so that dynamo / ``torch.export``
can trace them as single nodes (with fake implementations for shape propagation):

* ``torch.ops.fastforward.quantize_by_tile(input, scale, offset, tile_size, num_bits,
  output_dtype=None) -> raw`` — static quantization by tile; differentiable (the gradients of
  the spec: clipped straight-through data gradient, LSQ scale and offset gradients) through
* ``torch.ops.fastforward.quantize_by_tile_backward(grad, input, scale, offset, tile_size,
  num_bits) -> (grad_input, grad_scale, grad_offset)`` (``grad_offset`` is zeros without an
  offset);
* ``torch.ops.fastforward.dequantize_by_tile(input, scale, offset, tile_size, num_bits,
  output_dtype=None) -> real values``, identity gradient to ``input``;
* ``torch.ops.fastforward.quantize_dynamic_by_tile(input, tile_size, num_bits,
  symmetric=False, allow_one_sided=True, output_dtype=None) -> (raw, scale, offset)`` —
  scale and offset (rounded; zeros when symmetric) from each tile's min and max.

``scale`` and ``offset`` hold one entry per tile (row-major over the tile grid) or a single
entry; ``tile_size`` has one entry per input dim, and an empty list means the whole tensor
(the granularities' ``"data_shape"``). ``num_bits`` is a float. The raw data are
``output_dtype`` or the input's dtype. The ops compute what the quantizers compute
(libffqrt for float32 CPU data, torch ops otherwise); quantizers keep calling the kernels
directly. Needs ``torch.library.register_fake`` / ``register_autograd`` (torch 2.4 and later); with older torch the ops
are not registered."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch

from fastforward.quantization.affine import _kernels as K

__all__ = ["REGISTERED"]

REGISTERED = hasattr(torch.library, "register_fake") and hasattr(torch.library, "register_autograd")


def _tile(input: torch.Tensor, tile_size: Sequence[int]) -> Tuple[int, ...]:
    if len(tile_size) == 0:
        return tuple(int(d) for d in input.shape)
    from fastforward.quantization.tiled_tensor import check_tile_compatibility

    check_tile_compatibility(input.shape, tuple(tile_size))
    return tuple(int(t) for t in tile_size)


def _params(input: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
            tile: Tuple[int, ...]) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    s = K.per_tile(scale, input.shape, tile, "scale")
    o = None if offset is None else K.per_tile(offset, input.shape, tile, "offset")
    return s, o


def _quantize(input: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
              tile_size: List[int], num_bits: float, output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    bits = K.check_num_bits(num_bits, "fastforward::quantize_by_tile")
    K.check_float_data(input, "fastforward::quantize_by_tile")
    tile = _tile(input, tile_size)
    storage = output_dtype or input.dtype
    from fastforward.quantization.affine._affine import _check_storage

    _check_storage(storage, bits)
    if input.numel() == 0:
        return torch.empty(input.shape, dtype=storage, device=input.device)
    s, o = _params(input, scale, offset, tile)
    K.check_scale(s, "fastforward::quantize_by_tile")
    with torch.no_grad():
        raw = K.quantize_raw(input.detach(), s.detach(), None if o is None else o.detach(), tile, bits)
    return raw.to(storage).clone() if raw.dtype != storage else raw


def _dequantize(input: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                tile_size: List[int], num_bits: float, output_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    bits = K.check_num_bits(num_bits, "fastforward::dequantize_by_tile")
    tile = _tile(input, tile_size)
    dtype = output_dtype or (scale.dtype if scale.is_floating_point() else torch.get_default_dtype())
    if input.numel() == 0:
        return torch.empty(input.shape, dtype=dtype, device=input.device)
    s, o = _params(input, scale, offset, tile)
    with torch.no_grad():
        value = K.dequantize_raw(input.detach(), s.detach(), None if o is None else o.detach(), tile, bits)
    value = value.to(dtype)
    if value.data_ptr() == input.data_ptr():
        value = value.clone()
    return value


def _backward(grad: torch.Tensor, input: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
              tile_size: List[int], num_bits: float) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    tile = _tile(input, tile_size)
    s, o = _params(input, scale, offset, tile)
    with torch.no_grad():
        gx, gs, go = K.static_quantize_grads(grad, input, s, o, tile, float(num_bits))
    gs = gs if scale.numel() == gs.numel() else gs.sum()
    gs = gs.reshape(scale.shape)
    if offset is None:
        go = torch.zeros_like(scale)
    else:
        go = (go if offset.numel() == go.numel() else go.sum()).reshape(offset.shape)
    return gx, gs, go


def _dynamic(input: torch.Tensor, tile_size: List[int], num_bits: float, symmetric: bool = False,
             allow_one_sided: bool = True, output_dtype: Optional[torch.dtype] = None
             ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from fastforward.exceptions import QuantizationError
    from fastforward.quantization.affine._affine import parameters_for_range

    bits = K.check_num_bits(num_bits, "fastforward::quantize_dynamic_by_tile")
    K.check_float_data(input, "fastforward::quantize_dynamic_by_tile")
    if input.numel() == 0:
        raise QuantizationError("fastforward::quantize_dynamic_by_tile: dynamic quantization of an empty tensor")
    tile = _tile(input, tile_size)
    with torch.no_grad():
        x = input.detach()
        rows = x.reshape(K._split(x.shape, tile)[0]) if x.dim() else x.reshape(1)
        dims = tuple(range(1, 2 * x.dim(), 2))
        lo = rows.amin(dims).reshape(-1) if dims else rows.reshape(-1)
        hi = rows.amax(dims).reshape(-1) if dims else rows.reshape(-1)
        scale, offset = parameters_for_range(lo, hi, bits, symmetric, allow_one_sided)
        scale = scale.to(input.dtype)
        offset = torch.zeros_like(scale) if offset is None else torch.round(offset).to(scale.dtype)
    raw = _quantize(input, scale, offset, list(tile), num_bits, output_dtype)
    return raw, scale.clone(), offset.clone()


def _num_tiles(input: torch.Tensor, tile_size: Sequence[int]) -> int:
    if len(tile_size) == 0:
        return 1
    n = 1
    for d, t in zip(input.shape, tile_size):
        n = n * (d // t)
    return n


_SCHEMAS = {
    "quantize_by_tile": "(Tensor input, Tensor scale, Tensor? offset, int[] tile_size, float num_bits, "
                        "ScalarType? output_dtype=None) -> Tensor",
    "quantize_by_tile_backward": "(Tensor grad, Tensor input, Tensor scale, Tensor? offset, int[] tile_size, "
                                 "float num_bits) -> (Tensor, Tensor, Tensor)",
    "dequantize_by_tile": "(Tensor input, Tensor scale, Tensor? offset, int[] tile_size, float num_bits, "
                          "ScalarType? output_dtype=None) -> Tensor",
    "quantize_dynamic_by_tile": "(Tensor input, int[] tile_size, float num_bits, bool symmetric=False, "
                                "bool allow_one_sided=True, ScalarType? output_dtype=None) -> (Tensor, Tensor, Tensor)",
}


def _fake_quantize(input, scale, offset, tile_size, num_bits, output_dtype=None):  # type: ignore[no-untyped-def]
    return torch.empty_like(input, dtype=output_dtype or input.dtype)


def _fake_backward(grad, input, scale, offset, tile_size, num_bits):  # type: ignore[no-untyped-def]
    return (torch.empty_like(input), torch.empty_like(scale),
            torch.empty_like(offset) if offset is not None else torch.empty_like(scale))


def _fake_dequantize(input, scale, offset, tile_size, num_bits, output_dtype=None):  # type: ignore[no-untyped-def]
    dtype = output_dtype or (scale.dtype if scale.is_floating_point() else torch.get_default_dtype())
    return torch.empty_like(input, dtype=dtype)


def _fake_dynamic(input, tile_size, num_bits, symmetric=False, allow_one_sided=True, output_dtype=None):  # type: ignore[no-untyped-def]
    n = _num_tiles(input, tile_size)
    return (torch.empty_like(input, dtype=output_dtype or input.dtype), input.new_empty((n,)), input.new_empty((n,)))


def _setup_quantize(ctx, inputs, output):  # type: ignore[no-untyped-def]
    input, scale, offset, tile_size, num_bits = inputs[:5]
    ctx.tile_size, ctx.num_bits, ctx.has_offset = list(tile_size), num_bits, offset is not None
    ctx.save_for_backward(input, scale, offset if offset is not None else scale)


def _grad_quantize(ctx, grad):  # type: ignore[no-untyped-def]
    input, scale, offset = ctx.saved_tensors
    offset = offset if ctx.has_offset else None
    gx, gs, go = torch.ops.fastforward.quantize_by_tile_backward(
        grad.to(input.dtype), input, scale, offset, ctx.tile_size, ctx.num_bits)
    return gx, gs, (go if offset is not None else None), None, None, None


def _setup_input_dtype(ctx, inputs, output):  # type: ignore[no-untyped-def]
    ctx.input_dtype = inputs[0].dtype


def _grad_dequantize(ctx, grad):  # type: ignore[no-untyped-def]
    # dequantization changes representation, not value: identity to the raw data
    return grad.to(ctx.input_dtype), None, None, None, None, None


def _grad_dynamic(ctx, grad_raw, grad_scale, grad_offset):  # type: ignore[no-untyped-def]
    # a plain pass-through to the data, as dynamic quantization's backward
    return grad_raw.to(ctx.input_dtype), None, None, None, None, None


def _defined() -> bool:
    """Whether the ops exist already (this module imported again under another name)."""
    try:
        torch.ops.fastforward.quantize_by_tile
    except (AttributeError, RuntimeError):
        return False
    return True


_LIBRARY = None
if REGISTERED and not _defined():
    # torch.library.define and friends: the same registrations as torch.library.custom_op,
    # without inferring schemas from annotations at import (a fifth of the time)
    _LIBRARY = torch.library.Library("fastforward", "DEF")
    for _name, _impl, _fake, _autograd in (
        ("quantize_by_tile", _quantize, _fake_quantize, (_grad_quantize, _setup_quantize)),
        ("quantize_by_tile_backward", _backward, _fake_backward, None),
        ("dequantize_by_tile", _dequantize, _fake_dequantize, (_grad_dequantize, _setup_input_dtype)),
        ("quantize_dynamic_by_tile", _dynamic, _fake_dynamic, (_grad_dynamic, _setup_input_dtype)),
    ):
        _LIBRARY.define(_name + _SCHEMAS[_name])
        _LIBRARY.impl(_name, _impl, "CompositeExplicitAutograd")
        torch.library.register_fake("fastforward::" + _name, _fake, lib=_LIBRARY)
        if _autograd is not None:
            torch.library.register_autograd("fastforward::" + _name, _autograd[0], setup_context=_autograd[1],
                                            lib=_LIBRARY)

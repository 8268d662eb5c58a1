"""Static affine quantization by tile: the formula, its two implementations and its autograd.

With per-tile scale ``s`` and offset ``o`` (None = 0), ``r = round(o)``:

    raw = clamp(round(x / s - r), qmin, qmax) + 0.0    (NaN -> qmin; -0 -> +0)
    x'  = (raw + r) * s

``round`` is round-half-to-even; ``qmin = -2^(b-1)``, ``qmax = 2^(b-1) - 1``. With
``v = fl(x / s)``, ``round(v - r)`` is computed exactly (``round_shifted``): ``round(v) - r``,
except where ``v`` is an exact tie (a half-integer), where ``v - r`` is exact and rounds to
even. Subtracting ``r`` before rounding in float would drop the low bits of a small ``v``
beside a large ``r`` and move values near a half-way point onto it or across it, one step
off the formula, and off ONNX's ``QuantizeLinear`` (which rounds ``v`` and adds the zero
point). libffqrt computes the same with ``zp = -r`` (``ffqrt_qf``). So float32 CPU data go
to C (``fastforward._ffqrt``) whenever every ``zp`` fits the storage grid (always, for
offsets from ``parameters_for_range``), and to these torch ops otherwise; both paths give
bit-identical results wherever C is used.

Gradients (custom backward; the incoming gradient is w.r.t. ``x'``): straight-through for
``x`` except where the rounded value was clipped; LSQ-style for the scale; the offset
receives ``g * s`` from clipped elements. Reductions are per tile.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple

import torch

from fastforward import _ffqrt

_MAX_EXACT_OFFSET = 2.0**24


def check_num_bits(num_bits: Any, who: str = "quantization", maximum: int = 64) -> int:
    """``num_bits`` as an int in [2, maximum], else ValueError naming ``who``. Whether the
    storage dtype holds such integers is checked where it is known (a float32 tensor holds
    25-bit integers exactly, float64 54, int16 16: a RuntimeError otherwise)."""
    if isinstance(num_bits, bool) or not isinstance(num_bits, (int, float)) or (
        isinstance(num_bits, float) and not num_bits.is_integer()
    ):
        raise ValueError("%s: num_bits must be an integer from 2 to %d, got %r" % (who, maximum, num_bits))
    if not 2 <= int(num_bits) <= maximum:
        raise ValueError("%s: num_bits must be from 2 to %d, got %r" % (who, maximum, num_bits))
    return int(num_bits)


def check_float_data(data: Any, who: str = "quantization") -> None:
    """TypeError unless ``data`` is a floating-point tensor."""
    if not isinstance(data, torch.Tensor):
        raise TypeError("%s: expected a floating-point tensor, got %s" % (who, type(data).__name__))
    if not data.is_floating_point():
        raise TypeError(
            "%s: expected a floating-point tensor, got dtype %s (integer and boolean tensors "
            "cannot be quantized by a float quantizer)" % (who, data.dtype)
        )


def check_scale(scale: torch.Tensor, who: str = "quantization") -> None:
    """ValueError unless every scale is finite and nonzero. A negative scale is taken, as
    FastForward takes it: the formulas hold for it (x / s, then (raw + o) * s), and a
    quantizer trained with Adam can step its scale below zero and back. libffqrt's kernels
    take positive scales only: a negative one runs on torch ops."""
    if scale.numel() == 0:
        return
    if scale.numel() == 1 and scale.is_floating_point():
        v = scale.detach().item()
        if v != 0.0 and math.isfinite(v):
            return
    with torch.no_grad():
        bad = ~(torch.isfinite(scale) & (scale != 0))
        if bool(bad.any()):
            value = scale.detach().reshape(-1)[bad.reshape(-1)][0].item()
            raise ValueError(
                "%s: scale must be finite and nonzero, got %r (%d of %d entries invalid)"
                % (who, value, int(bad.sum()), scale.numel())
            )


def tile_shape(data_shape: Sequence[int], tile: Any) -> Tuple[int, ...]:
    """The tile as a tuple (the sentinel 'data_shape' becomes the data shape)."""
    if isinstance(tile, str):
        return tuple(int(d) for d in data_shape)
    return tuple(int(t) for t in tile)


def _split(data_shape: Sequence[int], tile: Sequence[int]) -> Tuple[list, list]:
    """(data view shape, parameter view shape) pairing each dim with its tile count."""
    view, params = [], []
    for d, t in zip(data_shape, tile):
        view += [int(d) // int(t), int(t)]
        params += [int(d) // int(t), 1]
    return view, params


def num_tiles(data_shape: Sequence[int], tile: Sequence[int]) -> int:
    n = 1
    for d, t in zip(data_shape, tile):
        n *= int(d) // int(t)
    return n


def per_tile(param: torch.Tensor, data_shape: Sequence[int], tile: Sequence[int], what: str) -> torch.Tensor:
    """``param`` as one entry per tile (flat), broadcasting a single value."""
    n = num_tiles(data_shape, tile)
    flat = param.reshape(-1)
    if flat.numel() == n:
        return flat
    if flat.numel() == 1:
        return flat.expand(n)
    raise ValueError(
        "%s has %d entries but data of shape %s has %d tiles of shape %s"
        % (what, flat.numel(), tuple(data_shape), n, tuple(tile))
    )


def _broadcast(flat: torch.Tensor, data_shape: Sequence[int], tile: Sequence[int]) -> torch.Tensor:
    return flat.reshape(_split(data_shape, tile)[1]) if len(data_shape) else flat.reshape(())


def _tiled(x: torch.Tensor, tile: Sequence[int]) -> torch.Tensor:
    return x.reshape(_split(x.shape, tile)[0]) if x.dim() else x


def round_half_even(t: torch.Tensor) -> torch.Tensor:
    """torch.round, also for Half CPU tensors (which torch 1.13 cannot round; exact in float32)."""
    if t.dtype == torch.float16 and t.device.type == "cpu":
        return torch.round(t.float()).to(torch.float16)
    return torch.round(t)


def round_shifted(v: torch.Tensor, r: Any) -> torch.Tensor:
    """``round_half_even(v - r)`` in real arithmetic, for float ``v`` and integer-valued ``r``
    (a tensor broadcasting with ``v``, or 0.0): ``round(v) - r``, and at exact ties of ``v``
    (``|v - round(v)| == 1/2``, where an odd ``r`` changes which neighbour is even) the
    half-integer ``v - r``, exact there, rounded. A new tensor."""
    rounded = round_half_even(v)  # (a new tensor)
    if isinstance(r, float) and r == 0.0:
        return rounded
    tie = (v - rounded).abs_() == 0.5
    return torch.where(tie, round_half_even(v - r), rounded - r)


def zero_point(offset: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """``-round(offset)`` with -0 normalised to +0, as the kernels add it."""
    if offset is None:
        return None
    return -round_half_even(offset) + 0.0


def quantize_torch(x: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                   tile: Sequence[int], num_bits: int) -> torch.Tensor:
    """Raw values in x's dtype (or the promoted dtype), the torch-ops implementation."""
    qmin, qmax = -(2.0 ** (num_bits - 1)), 2.0 ** (num_bits - 1) - 1
    with torch.no_grad():
        # round(v - r) exactly, then in-place passes: clamp (NaN stays NaN), NaN -> qmin,
        # and + 0.0 turning -0 into +0 as the C kernels do.
        v = _tiled(x, tile) / _broadcast(scale, x.shape, tile)
        dtype = v.dtype
        if dtype == torch.float16 and v.device.type == "cpu":
            v = v.float()  # torch 1.13 cannot round Half on the CPU; the values are exact
        if offset is None:
            v.round_()
        else:
            v = round_shifted(v, _broadcast(round_half_even(offset).to(v.dtype), x.shape, tile))
        v.clamp_(qmin, qmax).nan_to_num_(nan=qmin).add_(0.0)
    return strided_like(v.to(dtype).reshape(x.shape), x)


def strided_like(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``value`` with the strides of ``like`` where the two differ on dims of one element
    only (which address nothing: the same memory either way). torch reads those strides
    when it picks a memory format (a conv of a one-image channels_last batch), and the
    reshapes below make them up, while libffqrt's kernels keep the input's: with them the
    C and torch computations give tensors torch treats alike."""
    vs, ls = value.stride(), like.stride()
    if vs == ls or value.shape != like.shape:
        return value
    if any(a != b for a, b, n in zip(vs, ls, value.shape) if n != 1):
        return value
    return value.as_strided(value.shape, ls, value.storage_offset())


def dequantize_torch(raw: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                     tile: Sequence[int]) -> torch.Tensor:
    """``(raw - zp) * s`` in torch ops."""
    rt = _tiled(raw, tile)
    if not rt.is_floating_point() or rt.element_size() == 1:
        # integer storage, and float8 storage, which torch does not promote with other dtypes
        rt = rt.to(scale.dtype if scale.is_floating_point() else torch.get_default_dtype())
    zp = zero_point(offset)
    s = _broadcast(scale, raw.shape, tile)
    if zp is not None:
        rt = rt - _broadcast(zp, raw.shape, tile)
        if rt.dtype == torch.promote_types(rt.dtype, s.dtype) and not rt.requires_grad:
            return strided_like(rt.mul_(s).reshape(raw.shape), raw)  # the fresh difference, scaled in place
    return strided_like((rt * s).reshape(raw.shape), raw)


_zero_point_tensors: dict = {}  # int -> one-entry int32 tensor, handed to C only (read)


def _zero_point_tensor(zp: int) -> torch.Tensor:
    t = _zero_point_tensors.get(zp)
    if t is None or t._version != 0:
        # an ordinary tensor even under torch.inference_mode: an inference tensor has no
        # version counter, and reading it above would raise on the next call
        with torch.inference_mode(False):
            t = torch.tensor([zp], dtype=torch.int32)
        if len(_zero_point_tensors) > 1024:
            _zero_point_tensors.clear()
        _zero_point_tensors[zp] = t
    return t


def _c_ready(x: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor], num_bits: int
             ) -> Optional[Tuple[torch.Tensor, Optional[torch.Tensor]]]:
    """(float32 scales, int32 zero points) for the C kernels, or None to use torch."""
    if num_bits not in _ffqrt.GRID_DTYPES or x.dtype != torch.float32 or not x.is_cpu:
        return None
    if torch._C._get_tracing_state() is not None:
        return None  # C writes into a buffer the tracer cannot see: torch ops, which it records
    if scale.dtype != torch.float32 or not scale.is_cpu:
        return None
    if offset is None:
        return scale.contiguous(), None
    if offset.dtype != torch.float32 or not offset.is_cpu:
        return None  # other dtypes promote the torch path's arithmetic
    lo, hi = -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1
    if offset.numel() == 1:  # per tensor: in Python (torch ops on one value cost more)
        o = offset.detach().item()
        if not math.isfinite(o) or not -hi <= round(o) <= -lo:  # round: half to even, as torch
            return None
        return scale.contiguous(), _zero_point_tensor(-round(o))
    r = round_half_even(offset.detach())
    if not bool(((r >= -hi) & (r <= -lo)).all()):
        return None  # zero point off the grid (or NaN): C rejects it, torch computes it
    return scale.contiguous(), (-r).to(torch.int32).contiguous()


def quantize_raw(x: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                 tile: Sequence[int], num_bits: int) -> torch.Tensor:
    """Raw values (no autograd): libffqrt for float32 CPU data, torch ops otherwise."""
    if x.numel() == 0:
        return torch.empty(x.shape, dtype=torch.promote_types(x.dtype, scale.dtype), device=x.device)
    dense = x.is_contiguous() or _ffqrt.channels_last_dense(x)
    ready = _c_ready(x, scale, offset, num_bits) if dense else None
    if ready is not None:
        out = _ffqrt.quantize(x, tile, ready[0], ready[1], num_bits)
        if out is not None:
            return out
    return quantize_torch(x, scale, offset, tile, num_bits)


def fake_quantize_raw(x: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                      tile: Sequence[int], num_bits: int) -> torch.Tensor:
    """``dequantize(quantize(x))`` values (no autograd), C or torch."""
    if x.numel() == 0:
        return torch.empty(x.shape, dtype=torch.promote_types(x.dtype, scale.dtype), device=x.device)
    ready = _c_ready(x, scale, offset, num_bits) if x.is_contiguous() else None
    if ready is not None:
        out = _ffqrt.fake_quantize(x, tile, ready[0], ready[1], num_bits)
        if out is not None:
            return out
    raw = quantize_torch(x, scale, offset, tile, num_bits)
    return dequantize_torch(raw, scale, offset, tile)


def dequantize_raw(raw: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                   tile: Sequence[int], num_bits: int) -> torch.Tensor:
    """Real values of raw data (no autograd): C for int8 CPU raw data, torch otherwise."""
    if raw.numel() == 0:
        dtype = scale.dtype if scale.is_floating_point() else torch.get_default_dtype()
        return torch.empty(raw.shape, dtype=dtype, device=raw.device)
    if raw.dtype == torch.float32 and num_bits == 8 and scale.numel() == 1:
        ready = _c_ready(raw, scale, offset, num_bits)
        if ready is not None:  # computed along with raw by the quantization, if it was
            zp = 0 if ready[1] is None else int(ready[1].item())
            dq = _ffqrt.take_dequantized(raw, ready[0].item(), zp)
            if dq is not None:
                return dq
    if raw.dtype == torch.int8 and num_bits == 8 and (raw.is_contiguous() or _ffqrt.channels_last_dense(raw)):
        ready = _c_ready(torch.empty(0), scale, offset, num_bits)
        if ready is not None:
            out = _ffqrt.dequantize(raw, tile, ready[0], ready[1], 8)
            if out is not None:
                return out
    return dequantize_torch(raw, scale, offset, tile)


class StaticQuantize(torch.autograd.Function):
    """quantize with the custom backward described in the module docstring."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],  # type: ignore[override]
                tile: Tuple[int, ...], num_bits: int) -> torch.Tensor:
        ctx.tile, ctx.num_bits, ctx.has_offset = tile, num_bits, offset is not None
        ctx.save_for_backward(x, scale, offset if offset is not None else scale)
        return quantize_raw(x.detach(), scale.detach(), None if offset is None else offset.detach(), tile, num_bits)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        x, scale, offset = ctx.saved_tensors
        offset = offset if ctx.has_offset else None
        grad_x, grad_s, grad_o = static_quantize_grads(
            grad, x, scale, offset, ctx.tile, ctx.num_bits, ctx.needs_input_grad[:3])
        return grad_x, grad_s, grad_o, None, None


def static_quantize_grads(grad: torch.Tensor, x: torch.Tensor, scale: torch.Tensor,
                          offset: Optional[torch.Tensor], tile: Sequence[int], b: float,
                          needs: Sequence[bool] = (True, True, True)) -> Tuple[Any, Any, Any]:
    """Gradients of static quantization (data, scale per tile, offset per tile or None): the
    clipped straight-through estimator for the data, LSQ for the scale, the clipped part
    for the offset. ``needs`` skips the ones not asked for (None)."""
    qmin, qmax = -(2.0 ** (b - 1)), 2.0 ** (b - 1) - 1
    s = _broadcast(scale, x.shape, tile)
    xt, g = _tiled(x, tile), _tiled(grad, tile)
    r = 0.0 if offset is None else _broadcast(round_half_even(offset), x.shape, tile)
    v = xt / s
    p = v - r
    rounded = round_shifted(v, r)  # q*, as the forward rounds
    below, above = rounded < qmin, rounded > qmax
    inside = ~(below | above)
    zero = torch.zeros((), dtype=g.dtype, device=g.device)
    grad_x = grad_s = grad_o = None
    if needs[0]:
        grad_x = torch.where(inside, g, zero).reshape(x.shape)
    reduce_dims = tuple(range(1, 2 * x.dim(), 2))
    if needs[1]:
        local = torch.where(inside, rounded - p, torch.where(below, qmin + r, qmax + r))
        gs = (g * local)
        gs = gs.sum(reduce_dims) if reduce_dims else gs
        grad_s = gs.reshape(scale.shape) if gs.numel() == scale.numel() else gs.sum().reshape(scale.shape)
    if offset is not None and needs[2]:
        go = torch.where(inside, zero, g * s)
        go = go.sum(reduce_dims) if reduce_dims else go
        grad_o = go.reshape(offset.shape) if go.numel() == offset.numel() else go.sum().reshape(offset.shape)
    return grad_x, grad_s, grad_o


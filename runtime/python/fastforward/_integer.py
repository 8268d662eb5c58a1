"""Integer execution: dispatcher kernels that run quantized ops in libffqrt's int8 kernels.

Registered at import (``fastforward`` imports this module) for ``linear``, ``conv1d``,
``conv2d``, ``matmul``, ``mm``, ``bmm``, ``addmm`` (a linear layer with its weight stored
[in, out]: ``_plan_addmm``), ``add``, ``mul``, the cheap unary elementwise
ops (``relu``, ``gelu``, ``sigmoid``, ``silu``, ``negative``, ``positive``, ``exp``, ``sin``,
``cos``), ``max_pool2d`` (on the codes, exactly), ``dropout``, ``embedding``,
``layer_norm`` (over the last dimension) and ``scaled_dot_product_attention`` (see its
section below), both for the functional ops (``fastforward.nn.functional``) and for torch
calls on QuantizedTensors. A kernel applies when

* its quantized operands are static affine 8-bit QuantizedTensors on the CPU (activations
  per tensor; linear / conv / addmm weights per output channel or per tensor, symmetric), whose raw
  data hold integers in [-128, 127] (int8 storage, or float storage holding integers);
* no operand needs a gradient while autograd records (the integer path has no backward);
* the op's other arguments are ones the C kernels implement (see each planner).

Otherwise the op takes the simulated path (dequantize, float op, quantize) unchanged.
Results: with a static per-tensor 8-bit ``LinearQuantizer`` as output quantizer (no
overrides or hooks on it), the int32 accumulators are requantized straight onto its grid
and a QuantizedTensor with int8 storage comes out; with no output quantizer (or a stub) the
float32 result; with any other output quantizer, the float32 result passed through it.

On the integer path, a QuantizedTensor with int8 raw data that goes through another static
per-tensor 8-bit quantizer is requantized by a 256-entry table (built with the simulated
path itself, so the values are the same) and keeps int8 raw data; shape ops (``flatten``,
``reshape``, ``view``, ``permute``, ...) on a per-tensor QuantizedTensor move its integers
and keep it quantized; a batched conv2d returns channels_last raw data (the next conv reads
it as is). Outside autograd, a quantizer given the same unchanged weight again returns its
previous result, so frozen forward passes neither requantize nor repack weights.

Packed weights are cached per weight tensor: the key is the tensor that owns the raw data
(its ``_base`` or itself), its view geometry and its version counter, plus the scales; an
in-place change of the weight or its scales repacks, and the entry dies with the tensor.
Outside autograd the pack is also kept on the weight QuantizedTensor itself (with the float
bias), and activations carry the int8 codes their quantization wrote (``_Codes``): a call
on unchanged operands is a few attribute and version reads and one C call. The functional
ops call ``try_call`` (predicate and kernel at once) of the first kernel registered for the
op. Threads: the C context gets ``torch.get_num_threads()``.

``set_enabled(False)`` / ``integer_execution(False)`` (or ``FFQ_INTEGER=0`` in the
environment) turn the integer path off, leaving the simulated one.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import math
import os
import sys
import threading
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from fastforward import _ffqrt, dispatcher
from fastforward.flags import get_export_mode, get_strict_quantization
from fastforward.quantization.affine import _affine
from fastforward.quantization.affine._affine import (
    AffineQuantizationFunction,
    StaticAffineQuantParams,
)
from fastforward.quantization.function import QuantizationContext
from fastforward.quantization.granularity import PerChannel, PerTensor
from fastforward.quantized_tensor import _CODES, QuantizedTensor, _Codes, _codes_of, _wrap_plain

__all__ = [
    "cache_info",
    "clear_cache",
    "dynamic_activations",
    "enabled",
    "integer_execution",
    "last_path",
    "set_enabled",
]

_state = {"enabled": os.environ.get("FFQ_INTEGER", "1") != "0", "dynamic": False}
class _Local(threading.local):
    """Per-thread state; the class attributes are each thread's defaults, so that reading a
    value a thread never set is a plain attribute read (``getattr(local, name, default)`` on a
    bare threading.local raised and caught an AttributeError each time, which cost more than
    the rest of a small kernel call's checks)."""

    off = False
    last: Optional[str] = None
    pending: Any = None


_local = _Local()


def enabled() -> bool:
    """Whether the integer kernels are used (when their conditions hold). Never while torch
    traces (``torch.jit.trace``, ONNX export): a trace records torch ops only, so a libffqrt
    call would leave its output buffer recorded as an unwritten constant."""
    return (_state["enabled"] and not _local.off
            and torch._C._get_tracing_state() is None)


def set_enabled(flag: bool) -> None:
    """Turn the integer path on or off for the whole process."""
    _state["enabled"] = bool(flag)


@contextlib.contextmanager
def integer_execution(flag: bool = True) -> Iterator[None]:
    """Within the block the integer path is on (or off), then as before."""
    old = _state["enabled"]
    _state["enabled"] = bool(flag)
    try:
        yield
    finally:
        _state["enabled"] = old


@contextlib.contextmanager
def dynamic_activations(flag: bool = True) -> Iterator[None]:
    """Within the block, ``linear`` with a plain float32 input and a quantized weight runs
    the dynamic path: the input is quantized per call (per tensor, 7-bit unsigned from its
    min / max, as torch's dynamic quantization does) inside libffqrt. Off by default: the
    simulated path leaves such an input in float, so results differ by that quantization."""
    old = _state["dynamic"]
    _state["dynamic"] = bool(flag)
    try:
        yield
    finally:
        _state["dynamic"] = old


@contextlib.contextmanager
def _simulated() -> Iterator[None]:
    # This thread only: the fallback of a kernel re-enters the op without us.
    old = _local.off
    _local.off = True
    try:
        yield
    finally:
        _local.off = old


def last_path() -> Optional[str]:
    """``"<op>:integer"`` or ``"<op>:simulated"`` for the last call one of these kernels
    handled on this thread (for tests and debugging)."""
    return _local.last


def _note(op: str, path: str) -> None:
    _local.last = "%s:%s" % (op, path)


# --- operands --------------------------------------------------------------------------------


class _Act:
    """A per-tensor static affine 8-bit operand as int8 data plus its QParam."""

    __slots__ = ("raw", "qp")

    def __init__(self, raw: torch.Tensor, qp: _ffqrt.QParam) -> None:
        self.raw, self.qp = raw, qp


def _grad_blocked(t: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and t.requires_grad


def _static_params(x: Any) -> Optional[StaticAffineQuantParams]:
    if not isinstance(x, QuantizedTensor):
        return None
    context = x._quantization_context
    if not isinstance(context, QuantizationContext) or context.quantization_fn is not AffineQuantizationFunction:
        return None
    params = context.quantization_params
    if type(params) is not StaticAffineQuantParams or params.num_bits != 8:
        return None
    if params.dequantize_dtype not in (None, torch.float32):
        return None
    if params.dequantize_dtype is None and x.raw_data.dtype == torch.float64:
        return None  # dequantized to float64 (the raw data's dtype): the kernels give float32
    return params


def _f32_param(value: Any, n: Optional[int]) -> Optional[torch.Tensor]:
    """A float32 CPU parameter tensor (flat), every entry finite and > 0, or None."""
    if not isinstance(value, torch.Tensor) or type(value) not in (torch.Tensor, torch.nn.Parameter):
        return None
    if value.dtype != torch.float32 or not value.is_cpu or value.layout != torch.strided:
        return None
    if _grad_blocked(value):
        return None
    flat = value.detach().reshape(-1)
    if n is not None and flat.numel() != n:
        return None
    if flat.numel() == 0 or not bool((torch.isfinite(flat) & (flat > 0)).all()):
        return None
    return flat


def _zero_points(offset: Any, n: int) -> Optional[torch.Tensor]:
    """``-round(offset)`` as int64 (n entries), or None if unusable; zeros for no offset."""
    if offset is None:
        return torch.zeros(n, dtype=torch.int64)
    if not isinstance(offset, torch.Tensor) or not offset.is_floating_point() or not offset.is_cpu:
        return None
    if _grad_blocked(offset):
        return None
    flat = offset.detach().reshape(-1)
    if flat.numel() != n or not bool(torch.isfinite(flat).all()):
        return None
    zp = -torch.round(flat.double())
    if bool((zp < -128).any()) or bool((zp > 127).any()):
        return None
    return zp.to(torch.int64)


def _scalar_qparam(scale: Any, offset: Any) -> Optional[_ffqrt.QParam]:
    """The QParam of a one-entry float32 CPU scale (finite, > 0) and offset (None = 0;
    zero point ``-round(offset)`` within [-128, 127]), or None. Remembered per pair of
    tensors while both hold the same values (read through their addresses: writes through
    ``.data`` do not change version counters): the two ``item()`` calls and the checks cost
    more than a small kernel."""
    key = (id(scale), id(offset))
    hit = _qparam_seen.get(key)
    if hit is not None:
        sw, sv, ow, ov, qp = hit
        if (sw.tensor is scale and sw.read() == sv and not _grad_blocked(scale)
                and (offset is None if ow is None
                     else ow.tensor is offset and ow.read() == ov and not _grad_blocked(offset))):
            return qp
    qp = _scalar_qparam_of(scale, offset)
    if qp is not None:
        try:
            sw = _watch(scale)
            ow = None if offset is None else _watch(offset)
        except ValueError:  # an offset that is not float32: computed each time
            return qp
        sv, ov = sw.read(), None if ow is None else ow.read()
        if sv == qp.scale:
            if len(_qparam_seen) > 4096:
                _qparam_seen.clear()
            _qparam_seen[key] = (sw, sv, ow, ov, qp)
    return qp


# (id(scale), id(offset)) -> (FloatWatch of the scale, its value, of the offset or None, its
# value, QParam); the watches hold the tensors, so the ids stay theirs.
_qparam_seen: Dict[Tuple[int, int], Tuple[Any, float, Any, Optional[float], _ffqrt.QParam]] = {}


def _scalar_qparam_of(scale: Any, offset: Any) -> Optional[_ffqrt.QParam]:
    if (type(scale) not in (torch.Tensor, torch.nn.Parameter) or scale.dtype != torch.float32
            or not scale.is_cpu or scale.layout != torch.strided or scale.numel() != 1
            or _grad_blocked(scale)):
        return None
    s = scale.item()
    if not (s > 0.0 and s != math.inf):  # also false for NaN
        return None
    zp = 0
    if offset is not None:
        if (not isinstance(offset, torch.Tensor) or not offset.is_floating_point() or offset.numel() != 1
                or not offset.is_cpu or _grad_blocked(offset)):
            return None
        o = offset.item()
        if not math.isfinite(o):
            return None
        zp = -round(o)  # round half to even, as torch.round
        if not -128 <= zp <= 127:
            return None
    qp = _qparams.get((s, zp))
    if qp is None:
        if len(_qparams) > 4096:
            _qparams.clear()
        qp = _qparams[(s, zp)] = _ffqrt.QParam(s, zp)
    return qp


_qparams: Dict[Tuple[float, int], _ffqrt.QParam] = {}  # (scale, zero point) -> QParam (read-only)


def _int8_raw(x: QuantizedTensor) -> Optional[torch.Tensor]:
    """The raw data as int8 (same shape, maybe a copy), or None when they are not integers
    in [-128, 127] or not plain CPU data."""
    if not torch.is_grad_enabled():
        codes = _codes_of(x)  # computed along with the raw data by the quantizer
        if codes is not None:
            return codes.q8
    raw = x.raw_data
    if not raw.is_cpu or raw.layout != torch.strided or _grad_blocked(raw):
        return None
    if (_ffqrt._HAS_NEG and raw.is_neg()) or (_ffqrt._HAS_CONJ and raw.is_conj()):
        return None
    if raw.dtype == torch.int8:
        return raw.detach()
    if raw.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int16,
                         torch.int32, torch.int64, torch.uint8):
        return None
    raw = raw.detach()
    if raw.numel() == 0:
        return torch.empty(raw.shape, dtype=torch.int8)
    if raw.dtype == torch.float32 and not raw.is_contiguous() and _ffqrt.channels_last_dense(raw):
        inner = _int8_raw_data(raw.permute(0, 2, 3, 1))  # channels_last: on the NHWC view
        return None if inner is None else inner.permute(0, 3, 1, 2)
    return _int8_raw_data(raw)


def _int8_raw_data(raw: torch.Tensor) -> Optional[torch.Tensor]:
    if raw.dtype == torch.float32 and raw.is_contiguous():
        kept = _ffqrt.kept_int8(raw)  # straight from the 8-bit quantizer, which kept int8
        if kept is not None:
            return kept
        if _ffqrt.known_int8_grid(raw):  # straight from the 8-bit quantizer: one pass
            flat = raw.reshape(-1)
            q = _ffqrt.quantize_int8(flat, (flat.numel(),), _ONE, None)
            if q is not None:
                return q.reshape(raw.shape)
        out = _c_int8(raw)
        if out is not None or _ffqrt.available():
            return out
    if raw.is_floating_point():
        if raw.dtype in (torch.float16, torch.bfloat16):
            raw = raw.float()  # (exact; torch 1.13 cannot clamp Half on the CPU)
        # NaN, infinities and values out of range convert to something else: one round
        # trip checks integrality and range at once.
        out = raw.clamp(-129.0, 128.0).to(torch.int8)
        return out if torch.equal(out.to(raw.dtype), raw) else None
    lo_hi = torch.aminmax(raw) if hasattr(torch, "aminmax") else (raw.min(), raw.max())
    if not (-128 <= int(lo_hi[0]) and int(lo_hi[1]) <= 127):
        return None
    return raw.to(torch.int8)


_ONE = torch.ones(1)
_memcmp: List[Any] = []


def _same_bytes(a: torch.Tensor, b: torch.Tensor) -> bool:
    if not _memcmp:
        import ctypes

        fn = ctypes.CDLL(None).memcmp
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        fn.restype = ctypes.c_int
        _memcmp.append(fn)
    return _memcmp[0](a.data_ptr(), b.data_ptr(), a.numel() * a.element_size()) == 0


def _c_int8(raw: torch.Tensor) -> Optional[torch.Tensor]:
    """Float32 raw data as int8 in libffqrt's threads (torch's parallel ops stall on a busy
    machine): quantize with scale 1, dequantize back, and accept only a bitwise round trip
    (integers in [-128, 127]; NaN, fractions, -0 and values out of range fail it)."""
    shape = tuple(raw.shape)
    flat = raw.reshape(-1)
    q = _ffqrt.quantize_int8(flat, (flat.numel(),), _ONE, None)
    if q is None:
        return None
    back = _ffqrt.dequantize(q, (flat.numel(),), _ONE, None, 8)
    if back is None or not _same_bytes(back, flat):
        return None
    return q.reshape(shape)


# Operand scales the kernels take: within them every dequantized value, every product of
# two and every sum of up to 2^31 / (255 * 128) such products is a normal float32, as in
# the simulation. Beyond them the simulation's floats overflow to infinities (and give NaN
# where an infinite value meets a zero) or underflow to zero, while the kernels' integer
# sums and combined multiplier stay finite: such operands take the simulated path.
SCALE_MIN, SCALE_MAX = 2.0 ** -48, 2.0 ** 48


def _operand_scale(s: float) -> bool:
    return SCALE_MIN <= s <= SCALE_MAX


def _activation(x: Any) -> Optional[_Act]:
    if not torch.is_grad_enabled():
        codes = _codes_of(x)  # the quantizer's own codes and grid: nothing to check again
        if codes is not None:
            return _Act(codes.q8, codes.qp) if _operand_scale(codes.qp.scale) else None
    params = _static_params(x)
    if params is None or not isinstance(params.granularity, PerTensor):
        return None
    qp = _scalar_qparam(params.scale, params.offset)
    if qp is None or not _operand_scale(qp.scale):
        return None
    raw = _int8_raw(x)
    if raw is None:
        return None
    return _Act(raw, qp)


def _weight_ok(w: Any, ndim: int, axis: int = 0) -> bool:
    """Cheap first test of a weight with ``ndim`` dimensions: static 8-bit, per tensor or
    per channel along dim ``axis`` (its output channels: 0, or 1 for addmm's ``[in, out]``
    weight); the values are checked by ``_weight_scales`` when the weight is packed."""
    params = _static_params(w)
    if params is None or ndim < 2:
        return False
    g = params.granularity
    return isinstance(g, PerTensor) or (type(g) is PerChannel and [d % ndim for d in g.channel_dims] == [axis])


def _weight_scales(w: Any, axis: int = 0) -> Optional[torch.Tensor]:
    """Per-output-channel float32 scales of a symmetric 8-bit weight quantized per tensor
    or per channel along dim ``axis`` (the output channels: rows, or columns for addmm's
    ``[in, out]`` weight); None otherwise. Cheap: no pass over the weight itself."""
    params = _static_params(w)
    if params is None or w.dim() < 2:
        return None
    n = int(w.shape[axis])
    g = params.granularity
    if isinstance(g, PerTensor):
        scale = _f32_param(params.scale, 1)
        per_row = None if scale is None else scale.expand(n).contiguous()
        zp = _zero_points(params.offset, 1)
    elif type(g) is PerChannel and [d % w.dim() for d in g.channel_dims] == [axis]:
        scale = _f32_param(params.scale, n)
        per_row = None if scale is None else scale.contiguous()
        zp = _zero_points(params.offset, n)
    else:
        return None
    if per_row is None or zp is None or bool((zp != 0).any()):
        return None  # the kernels take symmetric weights only
    if not bool(((per_row >= SCALE_MIN) & (per_row <= SCALE_MAX)).all()):
        return None  # (see _operand_scale)
    return per_row


# --- the packed-weight cache -------------------------------------------------------------------


class _Entry:
    __slots__ = ("ref", "version", "geometry", "scales", "packed", "params")

    def __init__(self, ref: Any, version: int, geometry: Tuple[Any, ...], scales: torch.Tensor,
                 packed: torch.Tensor, params: Tuple[Any, ...]) -> None:
        self.ref, self.version, self.geometry, self.scales, self.packed = ref, version, geometry, scales, packed
        self.params = params


def _params_key(w: QuantizedTensor) -> Optional[Tuple[Any, ...]]:
    """What a pack depends on besides the integers: the weight's scale and offset tensors
    (as weak references, with their version counters) and its granularity; None when they
    cannot be tracked (then the scales are compared by value)."""
    params = _static_params(w)
    if params is None:
        return None
    key: List[Any] = [params.granularity]
    for t in (params.scale, params.offset):
        if t is None:
            key += [None, None]
            continue
        if not isinstance(t, torch.Tensor):
            return None
        try:
            key += [weakref.ref(t), int(t._version)]
        except (RuntimeError, TypeError):
            return None
    return tuple(key)


def _same_params(a: Tuple[Any, ...], b: Tuple[Any, ...]) -> bool:
    if len(a) != len(b) or a[0] != b[0]:
        return False
    for i in (1, 3):
        ra, rb = a[i], b[i]
        if (ra is None) != (rb is None):
            return False
        if ra is not None and (ra() is None or ra() is not rb() or a[i + 1] != b[i + 1]):
            return False
    return True


_cache: Dict[Tuple[Any, ...], _Entry] = {}
_stats = {"hits": 0, "packs": 0}


def _owner(w: QuantizedTensor) -> Tuple[Optional[torch.Tensor], Optional[int]]:
    """The tensor owning the weight's raw memory and its version, or (None, None) when the
    weight cannot be tracked (inference tensors have no version counter)."""
    raw = w.raw_data
    owner = raw._base if raw._base is not None else raw
    try:
        return owner, int(owner._version)
    except RuntimeError:
        return None, None


def _drop(key: Tuple[Any, ...], ref: Any) -> None:
    entry = _cache.get(key)
    if entry is not None and entry.ref is ref:
        del _cache[key]


def _packed_weight(w: QuantizedTensor, kind: str, layout: Tuple[Any, ...],
                   pack: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                   reshape: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
                   axis: int = 0) -> Optional[torch.Tensor]:
    """The packed form of weight ``w`` (cached), or None when the weight is not a
    symmetric 8-bit one of a supported granularity or its raw data are not int8 values.
    ``reshape`` maps the int8 raw data to what ``pack`` expects; ``axis``: the weight's
    output-channel dimension (``kind`` must tell packs of different axes apart)."""
    owner, version = _owner(w)
    raw_view = w.raw_data
    key = None
    pkey = _params_key(w)
    if owner is not None:
        key = (id(owner), kind, layout, tuple(raw_view.shape), tuple(raw_view.stride()),
               raw_view.storage_offset(), raw_view.dtype)
        entry = _cache.get(key)
        if entry is not None and entry.ref() is owner and entry.version == version:
            if pkey is not None and _same_params(entry.params, pkey):
                _stats["hits"] += 1
                return entry.packed
            scales = _weight_scales(w, axis)
            if scales is None:
                return None
            if torch.equal(entry.scales, scales):
                _stats["hits"] += 1
                return entry.packed
    scales = _weight_scales(w, axis)
    if scales is None:
        return None
    raw = _int8_raw(w)
    if raw is None:
        return None
    packed = pack(reshape(raw).contiguous(), scales)
    _stats["packs"] += 1
    if key is not None:
        ref = weakref.ref(owner, lambda r, key=key: _drop(key, r))
        _cache[key] = _Entry(ref, version, key[1:], scales.clone(), packed, pkey or ())
    return packed


class _WeightPack:
    """A pack of one QuantizedTensor weight, kept in the weight's own ``__dict__`` (it dies
    with the tensor): valid while the weight's raw data (``raw``, a plain alias sharing its
    version counter), its context and the context's scale / offset tensors, granularity
    and bit width are the ones the pack was made from."""

    __slots__ = ("raw", "version", "context", "params", "scale", "scale_version", "offset", "offset_version",
                 "granularity", "packed", "generation", "layout", "bias_state", "bias")

    def current(self, w: QuantizedTensor) -> bool:
        context = w._quantization_context
        if (context is not self.context or self.raw._version != self.version
                or self.generation != _generation[0]):
            return False
        params = self.params
        if (context.quantization_params is not params or params.scale is not self.scale
                or params.offset is not self.offset or params.granularity is not self.granularity
                or params.num_bits != 8):
            return False
        offset = self.offset
        return (self.scale._version == self.scale_version
                and (offset is None or offset._version == self.offset_version))


_PACKS = "_ffq_packs"
_generation = [0]  # clear_cache() makes every pack kept on a weight stale


def _weight_pack(w: QuantizedTensor, kind: str, layout: Tuple[Any, ...],
                 pack: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 reshape: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
                 axis: int = 0) -> Optional[torch.Tensor]:
    """``_packed_weight`` with the pack also kept on the weight itself: outside autograd a
    weight seen before costs a few attribute and version-counter reads."""
    grad = torch.is_grad_enabled()
    packs = w.__dict__.get(_PACKS)
    key = (kind, layout)
    if packs is not None and not grad:
        entry = packs.get(key)
        if entry is not None and entry.current(w):
            _stats["hits"] += 1
            return entry.packed
    packed = _packed_weight(w, kind, layout, pack, reshape, axis)
    if packed is None or grad:
        return packed
    context = w._quantization_context
    params = context.quantization_params
    entry = _WeightPack()
    try:
        entry.raw = w.raw_data
        entry.version = entry.raw._version
        entry.scale, entry.offset = params.scale, params.offset
        entry.scale_version = params.scale._version
        entry.offset_version = None if params.offset is None else params.offset._version
    except (RuntimeError, AttributeError):  # inference tensors have no version counter
        return packed
    entry.context, entry.params, entry.granularity, entry.packed = context, params, params.granularity, packed
    entry.generation, entry.layout, entry.bias_state, entry.bias = _generation[0], layout, None, None
    if packs is None:
        packs = w.__dict__[_PACKS] = {}
    if len(packs) > 16:
        packs.clear()
    packs[key] = packs[kind] = entry  # by kind: the latest, for callers that do not know the layout yet
    return packed


def _kept_pack(w: Any, kind: str) -> Optional[_WeightPack]:
    """The latest pack of ``kind`` kept on weight ``w``, if it is current (outside autograd)."""
    d = getattr(w, "__dict__", None)
    packs = None if d is None else d.get(_PACKS)
    if packs is None or torch.is_grad_enabled():
        return None
    entry = packs.get(kind)
    if entry is None or not entry.current(w):
        return None
    _stats["hits"] += 1
    return entry


def _kept_bias(entry: _WeightPack, bias: Any, n: int) -> Tuple[bool, Optional[torch.Tensor]]:
    """``_float_bias(bias, n)``, remembered on the weight's pack for a plain bias tensor that
    has not changed (same object, version counter and data pointer)."""
    if bias is None:
        return True, None
    state = entry.bias_state
    if state is not None and state[0] is bias and type(bias) in (torch.Tensor, torch.nn.Parameter):
        try:
            if bias._version == state[1] and bias.data_ptr() == state[2]:
                return True, entry.bias
        except RuntimeError:
            pass
    ok, value = _float_bias(bias, n)
    if ok and type(bias) in (torch.Tensor, torch.nn.Parameter):
        try:
            entry.bias_state, entry.bias = (bias, bias._version, bias.data_ptr()), value
        except RuntimeError:  # inference tensors have no version counter
            entry.bias_state = None
    return ok, value


def clear_cache() -> None:
    """Forget every packed weight."""
    _cache.clear()
    _generation[0] += 1


def cache_info() -> Dict[str, int]:
    """{"entries", "hits", "packs"}: cached packs, cache hits and packs made so far."""
    return {"entries": len(_cache), "hits": _stats["hits"], "packs": _stats["packs"]}


# --- output quantizers ---------------------------------------------------------------------------

_FLOAT, _REQUANT, _CALL = 0, 1, 2


def _global_hooks() -> bool:
    m = torch.nn.modules.module.__dict__
    return bool(m.get("_global_forward_hooks") or m.get("_global_forward_pre_hooks")
                or m.get("_global_forward_hooks_always_called"))


_quantizer_types: List[type] = []
_prepared_quantizer: List[Any] = []  # fastforward.nn.linear_quantizer._prepared


def _output(q: Any) -> Tuple[int, Any]:
    """How the result leaves the kernel: float, requantized in C (with the QParam), or
    float passed through the quantizer."""
    if not _quantizer_types:  # imported on first use (fastforward.nn imports this module)
        from fastforward.nn.linear_quantizer import LinearQuantizer as _LQ
        from fastforward.nn.quantizer import Quantizer as _Q, QuantizerStub as _QS

        from fastforward.nn.linear_quantizer import _prepared

        _quantizer_types[:] = [_LQ, _Q, _QS]
        _prepared_quantizer[:] = [_prepared]
    LinearQuantizer, Quantizer, QuantizerStub = _quantizer_types

    if q is None or (isinstance(q, QuantizerStub) and type(q).forward is QuantizerStub.forward):
        return _FLOAT, None
    if (type(q) is LinearQuantizer and not torch.is_grad_enabled() and not q.__dict__.get("_quantizer_overrides")
            and not q._forward_hooks and not q._forward_pre_hooks and not _global_hooks() and not get_export_mode()):
        # what the quantizer's own fast path prepared and keeps checked (8 bits, per tensor, a
        # storage dtype the kernels write, range set, the grid of its unchanged scale and
        # offset): the same grid _scalar_qparam gives below, without reading it all again
        prepared = _prepared_quantizer[0](q)
        if prepared is not None:
            return _REQUANT, (prepared.qp, q)
    if (type(q) is not LinearQuantizer or q.__dict__.get("_quantizer_overrides") or q._forward_hooks
            or q._forward_pre_hooks or _global_hooks() or q.num_bits != 8
            or not isinstance(q.granularity, PerTensor) or q.has_uninitialized_params
            or q.quantized_dtype not in (None, torch.int8, torch.float32) or get_export_mode()):
        return (_CALL, q) if isinstance(q, Quantizer) or callable(q) else (-1, None)
    qp = _scalar_qparam(q.scale, q.offset)
    if qp is None:
        return _CALL, q
    return _REQUANT, (qp, q)


# (id(scale), id(offset), storage dtype) -> (weak reference to scale, to offset, context):
# results on one quantizer's grid share one (immutable) context.
_contexts: Dict[Tuple[int, int, Any], Tuple[Any, Any, QuantizationContext]] = {}


def _context(scale: torch.Tensor, offset: Optional[torch.Tensor], storage: torch.dtype) -> QuantizationContext:
    key = (id(scale), id(offset), storage)
    hit = _contexts.get(key)
    if hit is not None and hit[0]() is scale and (offset is None or hit[1]() is offset):
        return hit[2]
    params = StaticAffineQuantParams(scale=scale, offset=offset, num_bits=8, granularity=PerTensor(),
                                     quantized_dtype=storage, dequantize_dtype=torch.float32)
    context = QuantizationContext(AffineQuantizationFunction, params)
    try:
        if len(_contexts) > 4096:
            _contexts.clear()
        _contexts[key] = (weakref.ref(scale), None if offset is None else weakref.ref(offset), context)
    except TypeError:
        pass
    return context


def _wrap(raw: torch.Tensor, quantizer: Any, qp: Optional[_ffqrt.QParam] = None) -> torch.Tensor:
    """The int8 result ``raw`` of a kernel on ``quantizer``'s grid as its QuantizedTensor;
    with ``qp`` (that grid), the codes are attached to it for the next kernel."""
    return _wrap_grid(raw, quantizer.scale, quantizer.offset, quantizer.quantized_dtype, qp)


def _wrap_grid(q8: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor], storage: Any,
               qp: Optional[_ffqrt.QParam]) -> torch.Tensor:
    """Int8 codes ``q8`` on the grid (scale, offset) as a QuantizedTensor whose dtype is
    the simulation's: a quantizer without a storage dtype (``quantized_dtype=None``) stores
    float32 there; here the raw data stay the int8 codes (no conversion pass) and the tensor
    reports float32 (``QuantizedTensor.dtype``), so model code reading ``x.dtype`` sees what
    it sees in the simulation. ``quantized_dtype=torch.float32`` asks for float32 raw data:
    converted. With ``qp`` (the grid) the codes are attached for the next kernel."""
    raw = _ffqrt.float_of_codes(q8) if storage == torch.float32 else q8
    context = _context(scale, offset, storage)
    if get_export_mode():
        return context.attach(raw)
    result = _wrap_plain(raw, context)
    if qp is not None:
        _attach_codes(result, raw, q8, context, scale, offset, qp)
    return result


def _attach_codes(result: torch.Tensor, raw: torch.Tensor, q8: torch.Tensor, context: Any, scale: torch.Tensor,
                  offset: Optional[torch.Tensor], qp: _ffqrt.QParam) -> None:
    """Attach int8 codes ``q8`` (grid ``qp``) to ``result`` (raw data ``raw``) outside
    autograd, unless the scale changed since the kernel read it."""
    # (codes on other raw data are kept by its version counter, which inference tensors lack)
    if q8.dtype != torch.int8 or torch.is_grad_enabled() or (raw is not q8 and raw.is_inference()):
        return
    try:
        codes = _Codes(raw, q8, context, qp, _watch(scale), None if offset is None else _watch(offset))
    except (RuntimeError, ValueError):
        return
    if codes.scale_value == qp.scale:  # (the grid the kernel used)
        result.__dict__[_CODES] = codes


def _same_grid(raw: torch.Tensor, q8: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
               storage: Any, qp: _ffqrt.QParam) -> Optional[torch.Tensor]:
    """A tensor (raw data ``raw``, int8 codes ``q8``) requantized by an identity table (the
    output grid holds every input code at the same value: the same calibrated range,
    typically the next layer's input quantizer on this layer's output) as the result,
    without a copy: the result shares the input's raw data and codes (read only; torch's
    view ops share memory the same way, and a QuantizedTensor is never written in place by
    its ops). None when the input's raw data are not stored as the result must be."""
    if storage == torch.float32 and raw.dtype != torch.float32:
        return None
    if storage == torch.int8 and raw is not q8:
        return None
    if not raw.is_contiguous() and _ffqrt.memory_order(raw) is None:
        return None  # a slice with steps or a broadcast: the simulation's result is dense
    # (no storage dtype: float32 raw data, or the int8 codes reported as float32)
    context = _context(scale, offset, storage)
    result = _wrap_plain(raw, context)
    _attach_codes(result, raw, q8, context, scale, offset, qp)
    return result


_IDENTITY = torch.arange(256, dtype=torch.int16).to(torch.int8)  # byte b -> the code b
_identity_seen: Dict[Tuple[Any, ...], Tuple[torch.Tensor, bool]] = {}  # requant key -> (table, flag)


def _is_identity(key: Tuple[Any, ...], table: torch.Tensor) -> bool:
    """Whether requantization table ``table`` (for ``key``) maps every code to itself (the
    two grids are one)."""
    seen = _identity_seen.get(key)
    if seen is None or seen[0] is not table:
        if len(_identity_seen) > 4096:
            _identity_seen.clear()
        seen = _identity_seen[key] = (table, bool(torch.equal(table, _IDENTITY)))
    return seen[1]


# id(tensor) -> a FloatWatch of it (which holds the tensor, so the id stays its own).
_watches: Dict[int, Any] = {}


def _watch(t: torch.Tensor) -> Any:
    w = _watches.get(id(t))
    if w is None or w.tensor is not t or t.data_ptr() != w.ptr:
        w = _ffqrt.FloatWatch(t)
        if len(_watches) > 1024:
            _watches.clear()
        _watches[id(t)] = w
    return w


def _finish(y: torch.Tensor, how: Tuple[int, Any]) -> torch.Tensor:
    kind, value = how
    if kind == _REQUANT:
        return _wrap(y, value[1], value[0])
    if kind == _CALL:
        return value(y)
    return y


def _float_bias(bias: Any, n: int) -> Tuple[bool, Optional[torch.Tensor]]:
    """(usable, float32 contiguous bias or None)."""
    if bias is None:
        return True, None
    if isinstance(bias, QuantizedTensor):
        if _grad_blocked(bias.raw_data):
            return False, None
        bias = bias.dequantize()
    if (not isinstance(bias, torch.Tensor) or bias.dtype != torch.float32 or not bias.is_cpu
            or bias.layout != torch.strided or _grad_blocked(bias) or tuple(bias.shape) != (n,)):
        return False, None
    return True, bias.detach().contiguous()


# --- argument binding (functional keywords or torch positional calls) ----------------------------


def _bind(names: Sequence[str], defaults: Dict[str, Any], args: Tuple[Any, ...],
          kwargs: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if not args and len(kwargs) == len(names) + 2 and "output_quantizer" in kwargs and "strict_quantization" in kwargs:
        # the functional ops' call: every parameter by keyword
        for name in names:
            if name not in kwargs:
                return None
        return kwargs
    if len(args) > len(names):
        return None
    if not kwargs and len(args) == len(names):
        return dict(zip(names, args))  # every parameter by position (a generated module's own call)
    bound = dict(defaults)
    bound.update(zip(names, args))
    for key, value in kwargs.items():
        if key in ("output_quantizer", "strict_quantization"):
            bound[key] = value
        elif key in names and (key not in bound or names.index(key) >= len(args)):
            bound[key] = value
        else:
            return None
    if any(name not in bound for name in names):
        return None
    return bound


# --- planners: each returns a zero-argument callable running the op, or None ---------------------

Plan = Callable[[], torch.Tensor]


# The packs of a linear weight: "linear" for linear's [out, in] weight, "linear_t" for
# addmm's mat2, the same layer stored [in, out] (transformers' Conv1D), packed as its
# transpose with per-column scales. (Two kinds: a square weight may be used both ways.)

def _transposed(t: torch.Tensor) -> torch.Tensor:
    return t.t()


def _linear_weight(w: Any, kind: str = "linear") -> Optional[Tuple[int, int, Optional[_WeightPack]]]:
    """(n, k, the weight's current kept pack or None) of a 2-D QuantizedTensor weight: n
    outputs, k inputs ([n, k] for ``"linear"``, [k, n] for ``"linear_t"``)."""
    if not isinstance(w, QuantizedTensor):
        return None
    entry = _kept_pack(w, kind)
    if entry is not None:
        return entry.layout[0], entry.layout[1], entry
    wshape = w.raw_data.shape  # (a plain tensor's: no __torch_function__ on the way)
    if len(wshape) != 2:
        return None
    if kind == "linear_t":
        return int(wshape[1]), int(wshape[0]), None
    return int(wshape[0]), int(wshape[1]), None


def _linear_pack_and_bias(w: QuantizedTensor, entry: Optional[_WeightPack], bias: Any, n: int,
                          k: int, kind: str = "linear") -> Optional[Tuple[torch.Tensor, Optional[torch.Tensor]]]:
    if entry is None:  # (a kept pack was checked when it was made)
        axis = 1 if kind == "linear_t" else 0
        if not _weight_ok(w, 2, axis):
            return None
        packed = _weight_pack(w, kind, (n, k), _ffqrt.linear_pack,
                              _transposed if kind == "linear_t" else lambda t: t, axis)
        if packed is None:
            return None
        entry = _kept_pack(w, kind)
        if entry is None:
            ok, fbias = _float_bias(bias, n)
            return (packed, fbias) if ok else None
    ok, fbias = _kept_bias(entry, bias, n)
    return (entry.packed, fbias) if ok else None


def _plan_linear_dynamic(b: Dict[str, Any], kind: str = "linear") -> Optional[Plan]:
    x, w = b["input"], b["weight"]
    if (type(x) is not torch.Tensor or x.dtype != torch.float32 or not x.is_cpu
            or x.layout != torch.strided or x.dim() < 1 or _grad_blocked(x)
            or (kind == "linear_t" and x.dim() != 2)):
        return None
    found = _linear_weight(w, kind)
    if found is None:
        return None
    n, k, entry = found
    if int(x.shape[-1]) != k or k == 0 or n == 0 or k > _ffqrt.LINEAR_MAX_K:
        return None
    how = _output(b.get("output_quantizer"))
    if how[0] < 0:
        return None
    if how[0] == _REQUANT:
        how = (_CALL, how[1][1])
    got = _linear_pack_and_bias(w, entry, b["bias"], n, k, kind)
    if got is None:
        return None
    packed, bias = got

    def run() -> torch.Tensor:
        lead = tuple(x.shape[:-1])
        y = _ffqrt.linear_dynamic(x.reshape(-1, k).contiguous(), packed, bias)
        return _finish(y.reshape(lead + (n,)), how)

    return run


def _plan_linear(b: Dict[str, Any], kind: str = "linear") -> Optional[Plan]:
    """linear(input, weight, bias); with ``kind`` "linear_t" the weight is stored [in, out]
    and the input must be 2-D (addmm)."""
    if _state["dynamic"] and not isinstance(b["input"], QuantizedTensor):
        return _plan_linear_dynamic(b, kind)
    x = _activation(b["input"])
    if x is None:
        return None
    found = _linear_weight(b["weight"], kind)
    if found is None:
        return None
    n, k, entry = found
    xshape = x.raw.shape
    if len(xshape) < 1 or int(xshape[-1]) != k or k == 0 or n == 0 or k > _ffqrt.LINEAR_MAX_K:
        return None
    if kind == "linear_t" and len(xshape) != 2:
        return None
    how = _output(b.get("output_quantizer"))
    if how[0] < 0:
        return None
    got = _linear_pack_and_bias(b["weight"], entry, b["bias"], n, k, kind)
    if got is None:
        return None
    packed, bias = got

    def run() -> torch.Tensor:
        raw = x.raw
        flat = len(xshape) == 2 and raw.is_contiguous()
        a = raw if flat else raw.reshape(-1, k).contiguous()
        y = _ffqrt.linear(a, x.qp, packed, bias, out=how[1][0] if how[0] == _REQUANT else None)
        return _finish(y if flat else y.reshape(tuple(xshape[:-1]) + (n,)), how)

    return run


def _is_one(value: Any) -> bool:
    """A Python int or float equal to 1 (not a bool, not a tensor)."""
    return type(value) in (int, float) and value == 1


def _plan_addmm(b: Dict[str, Any]) -> Optional[Plan]:
    """addmm(input, mat1, mat2) = input + mat1 @ mat2 with beta = alpha = 1, a 2-D activation
    ``mat1`` [m, k], a weight ``mat2`` [k, n] (8-bit, symmetric, per tensor or per output
    channel: along dim 1) and ``input`` a bias of shape [n] (float or quantized): the linear
    layer ``linear(mat1, mat2.t(), input)`` stored transposed (transformers' Conv1D). Its pack
    is that of the transposed weight, kept like linear's. Anything else: the simulation."""
    if not (_is_one(b["beta"]) and _is_one(b["alpha"])) or b["input"] is None:
        return None
    return _plan_linear({"input": b["mat1"], "weight": b["mat2"], "bias": b["input"],
                         "output_quantizer": b.get("output_quantizer")}, "linear_t")


def _pair(value: Any, what: str) -> Optional[Tuple[int, int]]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(type(v) is int for v in value):
        return int(value[0]), int(value[1])
    return None


def _single(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 1 and type(value[0]) is int:
        return int(value[0])
    return None


# conv2d_shape's arguments -> its (read-only) result, made once per geometry.
_conv_shapes: Dict[Tuple[Any, ...], Any] = {}


ConvArgs = Tuple[int, int, Tuple[int, int], Tuple[int, int], Tuple[int, int], int]


def _conv_args(b: Dict[str, Any], dims: int, wshape: Sequence[int]) -> Optional[ConvArgs]:
    """(kh, kw, stride, padding, dilation, groups) of a conv call as libffqrt takes them
    (conv1d as a conv2d of height 1), or None when libffqrt cannot run it."""
    groups = b["groups"]
    if type(groups) is not int or groups < 1:
        return None
    if dims == 2:
        stride, dilation = _pair(b["stride"], "stride"), _pair(b["dilation"], "dilation")
        kh, kw = int(wshape[2]), int(wshape[3])
    else:
        s1, d1 = _single(b["stride"]), _single(b["dilation"])
        stride = None if s1 is None else (1, s1)
        dilation = None if d1 is None else (1, d1)
        kh, kw = 1, int(wshape[2])
    if stride is None or dilation is None or min(stride) < 1 or min(dilation) < 1:
        return None
    padding = b["padding"]
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0)
        elif padding == "same":
            spans = ((kh - 1) * dilation[0], (kw - 1) * dilation[1])
            if stride != (1, 1) or spans[0] % 2 or spans[1] % 2:
                return None  # torch pads unevenly there
            pad = (spans[0] // 2, spans[1] // 2)
        else:
            return None
    elif dims == 2:
        pad = _pair(padding, "padding")
    else:
        p1 = _single(padding)
        pad = None if p1 is None else (0, p1)
    if pad is None or min(pad) < 0:
        return None
    return kh, kw, stride, pad, dilation, groups


def _plan_conv(b: Dict[str, Any], dims: int) -> Optional[Plan]:
    x = _activation(b["input"])
    w = b["weight"]
    if x is None or not isinstance(w, QuantizedTensor):
        return None
    kept = _kept_pack(w, "conv") if dims == 2 else None  # (conv1d weights are packed as 4-D)
    wshape = kept.layout[:4] if kept is not None else w.raw_data.shape  # (c_out, c_in / groups, kh, kw)
    if len(wshape) != dims + 2:
        return None
    batched = x.raw.dim() == dims + 2
    if not batched and x.raw.dim() != dims + 1:
        return None
    args = _conv_args(b, dims, wshape)
    if args is None:
        return None
    kh, kw, stride, pad, dilation, groups = args
    xr = x.raw if batched else x.raw.unsqueeze(0)
    if dims == 1:
        xr = xr.unsqueeze(2)
    nb, c_in, h, wd = (int(d) for d in xr.shape)
    c_out = int(wshape[0])
    if c_out == 0 or c_in == 0 or int(wshape[1]) * groups != c_in or c_out % groups:
        return None
    if h == 0 or wd == 0:
        return None  # (torch's error: only the batch or the channels may be empty)
    if (c_in // groups) * kh * kw > _ffqrt.LINEAR_MAX_K:
        return None
    how = _output(b.get("output_quantizer"))
    # conv2d reads channels_last input as is. Its output has the input's memory format, as
    # torch's conv gives it (a channels_last output, requantized or float, when the input
    # is channels_last, else NCHW): strides are visible to the model (`view`, `*_like` factories,
    # `is_contiguous()`), so the integer path must not change them.
    layout = 0
    if dims == 2:
        if not xr.is_contiguous() and _ffqrt.channels_last_dense(xr):
            layout |= _ffqrt.CONV_IN_NHWC
            if batched:  # (requantized or float: torch's conv gives channels_last either way)
                layout |= _ffqrt.CONV_OUT_NHWC
    shape = _conv_shape((nb, c_in, h, wd, c_out, kh, kw, stride, pad, dilation, groups, layout))
    if shape is None:
        return None
    if how[0] < 0 or (kept is None and not _weight_ok(w, dims + 2)):
        return None
    packed = _conv_pack(w, shape, dims)
    if packed is None:
        return None
    if kept is None and dims == 2:
        kept = _kept_pack(w, "conv")  # (the pack just made)
    ok, bias = _float_bias(b["bias"], c_out) if kept is None else _kept_bias(kept, b["bias"], c_out)
    if not ok:
        return None

    def run() -> torch.Tensor:
        y = _ffqrt.conv2d(xr if layout & _ffqrt.CONV_IN_NHWC else xr.contiguous(), x.qp, packed, bias, shape,
                          out=how[1][0] if how[0] == _REQUANT else None)
        if dims == 1:
            y = y.squeeze(2)
        if not batched:
            y = y.squeeze(0)
        return _finish(y, how)

    return run


def _conv_shape(key: Tuple[Any, ...]) -> Any:
    """The C shape of conv2d_shape(*key) (made once per geometry), or None when the
    output would be empty."""
    shape = _conv_shapes.get(key)
    if shape is None:
        shape = _ffqrt.conv2d_shape(*key)
        if len(_conv_shapes) > 4096:
            _conv_shapes.clear()
        _conv_shapes[key] = shape
    oh, ow = _ffqrt.conv2d_out_hw(shape)
    return shape if oh and ow else None


def _conv_pack(w: QuantizedTensor, shape: Any, dims: int) -> Optional[torch.Tensor]:
    """The cached pack of conv weight ``w`` for ``shape``. The pack's layout depends on the
    kernel geometry (channels per group, kernel size, groups, dilation), not on the input's
    size, so all of that is in the cache key."""
    layout = (shape.c_out, shape.c_in // shape.groups, shape.kh, shape.kw, shape.groups, shape.dil_h,
              shape.dil_w)
    return _weight_pack(w, "conv", layout, lambda r, s: _ffqrt.conv2d_pack(r, s, shape),
                          (lambda r: r) if dims == 2 else (lambda r: r.unsqueeze(2)))


def _broadcast(a: Tuple[int, ...], b: Tuple[int, ...]) -> Optional[Tuple[int, ...]]:
    """torch.broadcast_shapes(a, b) as a tuple, or None when the shapes do not broadcast
    (written out: torch's is ~30x slower, a cost every elementwise call paid)."""
    if a == b or not b:
        return a
    if not a:
        return b
    if len(a) < len(b):
        a, b = b, a
    out = list(a)
    lead = len(a) - len(b)
    for i, d in enumerate(b):
        e = out[lead + i]
        if d != e:
            if e == 1:
                out[lead + i] = d
            elif d != 1:
                return None
    return tuple(out)


def _plan_matmul(b: Dict[str, Any], a_name: str, b_name: str, op: str) -> Optional[Plan]:
    x, y = _activation(b[a_name]), _activation(b[b_name])
    if x is None or y is None:
        return None
    ar, br = x.raw, y.raw
    if op == "bmm" and (ar.dim() != 3 or br.dim() != 3):
        return None
    if op == "mm" and (ar.dim() != 2 or br.dim() != 2):
        return None
    if ar.dim() < 2 or br.dim() < 2:
        return None  # vectors: left to the simulation
    m, k = int(ar.shape[-2]), int(ar.shape[-1])
    if int(br.shape[-2]) != k or k == 0 or k > _ffqrt.MATMUL_MAX_K:
        return None
    n = int(br.shape[-1])
    batch_shape = _broadcast(tuple(ar.shape[:-2]), tuple(br.shape[:-2]))
    if batch_shape is None:
        return None
    if op == "bmm" and (tuple(ar.shape[:-2]) != tuple(br.shape[:-2])):
        return None
    how = _output(b.get("output_quantizer"))
    if how[0] < 0:
        return None

    def run() -> torch.Tensor:
        batch = 1
        for d in batch_shape:
            batch *= int(d)
        if br.dim() == 2:
            # One right-hand side for every batch: fold the batch into the rows.
            a3 = ar.reshape(1, -1, k).contiguous() if ar.dim() > 2 else ar.unsqueeze(0).contiguous()
            b3 = br.unsqueeze(0).contiguous()
            out = _ffqrt.matmul(a3, x.qp, b3, y.qp, out=how[1][0] if how[0] == _REQUANT else None)
            result = out.reshape(batch_shape + (m, n))
        else:
            a3 = ar.expand(batch_shape + (m, k)).reshape(batch, m, k).contiguous()
            bt = br.transpose(-2, -1)
            if tuple(br.shape[:-2]) == batch_shape and bt.is_contiguous():
                # a transposed view (x @ y.transpose(-2, -1)): read as stored
                b3, transposed = bt.reshape(batch, n, k), True
            else:
                b3, transposed = br.expand(batch_shape + (k, n)).reshape(batch, k, n).contiguous(), False
            out = _ffqrt.matmul(a3, x.qp, b3, y.qp, out=how[1][0] if how[0] == _REQUANT else None,
                                b_transposed=transposed)
            result = out.reshape(batch_shape + (m, n))
        return _finish(result, how)

    return run


def _plan_eltwise(b: Dict[str, Any], op: str) -> Optional[Plan]:
    if op == "add" and not (type(b.get("alpha", 1)) is int and b.get("alpha", 1) == 1):
        return None
    how = _output(b.get("output_quantizer"))
    if how[0] != _REQUANT:
        return None  # the C kernels write int8 only
    for big, number in ((b["input"], b["other"]), (b["other"], b["input"])):
        if type(number) in (int, float) and isinstance(big, QuantizedTensor):
            # a Python number (a quantized scalar such as attention's scaling comes back from
            # its quantizer as one): the simulation ops the dequantized tensor and the number
            # in float32, as the table does
            x = _activation(big)
            if x is None or x.raw.numel() == 1:
                return None
            return _plan_by_value(op, x, ctypes.c_float(float(number)).value, how)
    x, y = _activation(b["input"]), _activation(b["other"])
    if x is None or y is None:
        return None
    shape = _broadcast(tuple(x.raw.shape), tuple(y.raw.shape))
    if shape is None:
        return None
    for big, small in ((x, y), (y, x)):
        if small.raw.numel() == 1 and tuple(big.raw.shape) == shape and big.raw.numel() != 1:
            return _plan_by_scalar(op, big, small, how)
    for big, small, big_first in ((x, y, True), (y, x, False)):
        if _by_channel(big.raw, small.raw, shape) and _ffqrt.available():
            return _plan_by_channel(op, big, small, big_first, how)

    def run() -> torch.Tensor:
        fn = _ffqrt.add if op == "add" else _ffqrt.mul
        if _both_channels_last(x.raw, y.raw):
            # a residual add of two conv outputs: elementwise over their NHWC memory, the
            # result channels_last as torch's add of the dequantized operands gives it (a
            # .contiguous() of each operand was a transposing copy, for nothing)
            nhwc = fn(x.raw.permute(0, 2, 3, 1), x.qp, y.raw.permute(0, 2, 3, 1), y.qp, how[1][0])
            return _finish(nhwc.permute(0, 3, 1, 2), how)
        a = x.raw.expand(shape).contiguous()
        c = y.raw.expand(shape).contiguous()
        return _finish(fn(a, x.qp, c, y.qp, how[1][0]), how)

    return run


def _both_channels_last(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Two 4-D tensors of one shape, both dense in channels_last order (and not also
    contiguous, as tensors with one channel or a 1 x 1 image are)."""
    return (a.dim() == 4 and a.shape == b.shape and not a.is_contiguous() and not b.is_contiguous()
            and _ffqrt.channels_last_dense(a) and _ffqrt.channels_last_dense(b))


def _by_channel(big: torch.Tensor, small: torch.Tensor, shape: Tuple[int, ...]) -> bool:
    """``small`` holds one value a channel (and image) of ``big``, an NCHW-like tensor of
    the broadcast shape (squeeze-excite's ``x * gate``, the gate ``[n, c, 1, 1]``), planes
    of more than one element: ``big`` contiguous, ``small`` of shape ``[n or 1, c, 1, ...]``."""
    if big.dim() < 3 or small.dim() != big.dim() or tuple(big.shape) != shape or not big.is_contiguous():
        return False
    n, c = int(big.shape[0]), int(big.shape[1])
    if int(small.shape[0]) not in (1, n) or int(small.shape[1]) != c or any(int(d) != 1 for d in small.shape[2:]):
        return False
    return n * c > 0 and big.numel() > n * c


# (op, order, the two grids, the output grid) -> [256, 256] int8: the output codes of every
# pair of codes, indexed by the bytes (the one-value-a-channel operand's first)
_pair_cache: Dict[Tuple[Any, ...], torch.Tensor] = {}


def _pair_tables(op: str, big_first: bool, qx: _ffqrt.QParam, qs: _ffqrt.QParam, quantizer: Any,
                 qy: _ffqrt.QParam) -> torch.Tensor:
    key = (op, big_first, qx.scale, qx.zero_point, qs.scale, qs.zero_point, qy.scale, qy.zero_point)
    tables = _pair_cache.get(key)
    if tables is None:
        vx = _all_codes_dequantized(qx).reshape(1, 256)
        vs = _all_codes_dequantized(qs).reshape(256, 1)
        fn = torch.mul if op == "mul" else torch.add
        # the simulation's float32 operation on the dequantized operands, in the call's order
        values = fn(vx, vs) if big_first else fn(vs, vx)
        codes = _by_byte(quantizer(values).raw_data).to(torch.int8)  # rows: the small operand's codes
        tables = torch.cat([codes[:, 128:], codes[:, :128]], dim=1).contiguous()
        if len(_pair_cache) > 256:
            _pair_cache.clear()
        _pair_cache[key] = tables
    return tables


def _plan_by_channel(op: str, big: _Act, small: _Act, big_first: bool, how: Tuple[int, Any]) -> Plan:
    """add / mul of an NCHW tensor and one value a channel (``_by_channel``) onto a static
    grid: every pair of codes tabulated with the simulation's own float32 operation and
    output quantizer, then one table lookup a plane (``ffqrt_lut8_planes``), the table
    picked by that plane's value. Bit-identical to the simulation, without expanding the
    small operand and requantizing each product in C."""

    def run() -> torch.Tensor:
        qy, quantizer = how[1]
        tables = _pair_tables(op, big_first, big.qp, small.qp, quantizer, qy)
        n, c = int(big.raw.shape[0]), int(big.raw.shape[1])
        sel = small.raw.reshape(-1, c).expand(n, c).contiguous()
        return _finish(_ffqrt.lut8_planes(big.raw, tables, sel), how)

    return run


def _plan_by_scalar(op: str, big: _Act, small: _Act, how: Tuple[int, Any]) -> Plan:
    """add / mul of a tensor and a one-element operand (a quantized scalar such as attention's
    scaling): a function of the tensor's 256 codes, tabulated with the simulated path (its
    dequantized values op the scalar's, through the output quantizer) and applied by lookup.
    Bit-identical to the simulation: the same float32 operations on the same values."""
    code = int(small.raw.reshape(-1)[0])
    # the scalar as the simulation dequantizes it: (code - zp) * scale, one float32 rounding
    # (the product of the two float32 values is exact in double)
    value = ctypes.c_float(float(code - small.qp.zero_point) * small.qp.scale).value
    return _plan_by_value(op, big, value, how)


def _plan_by_value(op: str, big: _Act, value: float, how: Tuple[int, Any]) -> Plan:
    """add / mul of a tensor and a float32 ``value``, by a table of the tensor's codes."""

    def run() -> torch.Tensor:
        table = _lut(op + "_scalar", (value,), big.qp, how[1][1], how[1][0])
        return _finish(_apply_table(big.raw, table), how)

    return run


# Unary elementwise ops: with a per-tensor input and a static per-tensor output quantizer
# the op is a function of 256 input codes; the table is built with the simulated path
# itself (dequantize, the float op, the quantizer's C quantization) and applied by lookup.
_UNARY: Dict[str, Callable[..., torch.Tensor]] = {
    "relu": lambda t: torch.relu(t),
    "gelu": lambda t, approximate="none": F.gelu(t, approximate=approximate),
    "sigmoid": lambda t: torch.sigmoid(t),
    "silu": lambda t: F.silu(t),
    "negative": lambda t: torch.neg(t),
    "positive": lambda t: t,
    "exp": lambda t: torch.exp(t),
    "sin": lambda t: torch.sin(t),
    "cos": lambda t: torch.cos(t),
    "rsqrt": lambda t: torch.rsqrt(t),
    "tanh": lambda t: torch.tanh(t),
    "pow": lambda t, exponent: torch.pow(t, exponent),  # (a number exponent: _unary_extra)
    # activations with options (their number arguments: _TABLE_OPTIONS)
    "leaky_relu": lambda t, negative_slope: F.leaky_relu(t, negative_slope),
    "hardtanh": lambda t, min_val, max_val: F.hardtanh(t, min_val, max_val),
    "relu6": lambda t: F.relu6(t),
    "elu": lambda t, alpha: F.elu(t, alpha),
    "hardswish": lambda t: F.hardswish(t),
    "hardsigmoid": lambda t: F.hardsigmoid(t),
    "mish": lambda t: F.mish(t),
    "softplus": lambda t, beta, threshold: F.softplus(t, beta, threshold),
    "erf": lambda t: torch.erf(t),
    "sqrt": lambda t: torch.sqrt(t),
    "clamp": lambda t, lo, hi: torch.clamp(t, lo, hi),
    # (tables of add / mul by a one-element operand, its float32 value given)
    "add_scalar": lambda t, v: torch.add(t, torch.tensor(v, dtype=torch.float32)),
    "mul_scalar": lambda t, v: torch.mul(t, torch.tensor(v, dtype=torch.float32)),
}
_lut_cache: Dict[Tuple[Any, ...], torch.Tensor] = {}


def _lut_key(op: str, extra: Tuple[Any, ...], qx: _ffqrt.QParam, qy: _ffqrt.QParam) -> Tuple[Any, ...]:
    """The key of the table of ``op`` from grid ``qx`` onto grid ``qy`` (_lut's cache, and
    _is_identity's)."""
    return (op, extra, qx.scale, qx.zero_point, qy.scale, qy.zero_point)


def _lut(op: str, extra: Tuple[Any, ...], qx: _ffqrt.QParam, quantizer: Any, qy: _ffqrt.QParam) -> torch.Tensor:
    key = _lut_key(op, extra, qx, qy)
    table = _lut_cache.get(key)
    if table is None:
        out = quantizer(_UNARY[op](_all_codes_dequantized(qx), *extra))
        table = _by_byte(out.raw_data).to(torch.int8)
        if len(_lut_cache) > 4096:
            _lut_cache.clear()
        _lut_cache[key] = table
    return table


def _by_byte(per_code: torch.Tensor) -> torch.Tensor:
    """256 values given for the codes -128..127, reordered as the lookups index them: by the
    code's byte (int8 viewed as uint8), 0..127 then -128..-1 (a new contiguous tensor)."""
    return torch.cat([per_code[128:], per_code[:128]])


def _all_codes_dequantized(qx: _ffqrt.QParam) -> torch.Tensor:
    """The codes -128..127 of the grid ``qx`` dequantized as the simulation dequantizes."""
    from fastforward.quantization.affine._affine import dequantize_static

    params = StaticAffineQuantParams(scale=torch.tensor([qx.scale]), offset=torch.tensor([-float(qx.zero_point)]),
                                     num_bits=8, granularity=PerTensor())
    return dequantize_static(torch.arange(-128, 128, dtype=torch.float32), params)


_float_lut_cache: Dict[Tuple[Any, ...], torch.Tensor] = {}


def _float_lut(op: str, extra: Tuple[Any, ...], qx: _ffqrt.QParam) -> torch.Tensor:
    """The op on the 256 dequantized codes of the grid ``qx``, as float32 indexed by the
    code's byte (0..127 then -128..-1)."""
    key = (op, extra, qx.scale, qx.zero_point)
    table = _float_lut_cache.get(key)
    if table is None:
        table = _by_byte(_UNARY[op](_all_codes_dequantized(qx), *extra).to(torch.float32))
        if len(_float_lut_cache) > 4096:
            _float_lut_cache.clear()
        _float_lut_cache[key] = table
    return table


def _dense8(raw: torch.Tensor) -> torch.Tensor:
    """Codes as the table lookups take them: covering their memory densely in some order of
    the dims (the lookup keeps that layout, as torch's elementwise ops keep it), else a
    copy laid out as torch lays out an elementwise result of them (``empty_like``: the order
    of the strides kept)."""
    if raw.is_contiguous() or _ffqrt.memory_order(raw) is not None:
        return raw
    return torch.empty_like(raw).copy_(raw)


def _apply_table(raw: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """``table`` (256 int8 entries, indexed by the byte) applied to int8 ``raw``."""
    raw = _dense8(raw)
    y = _ffqrt.lut8(raw, table)
    if y is not None:
        return y
    idx = raw.reshape(-1).view(torch.uint8).to(torch.int64)
    return torch.empty_like(raw, dtype=table.dtype).copy_(table.index_select(0, idx).reshape(raw.shape))


# Requantization (a QuantizedTensor through another per-tensor 8-bit quantizer) is a
# function of the 256 input codes too: tabulated with the simulated path itself.
_requant_cache: Dict[Tuple[Any, ...], torch.Tensor] = {}


def _requantize(data: QuantizedTensor, params: StaticAffineQuantParams) -> Optional[torch.Tensor]:
    """``quantize(data.dequantize(), params)`` on the integer path (by table lookup on the
    int8 codes; stored as the simulation stores it, codes attached), or None to let the
    simulated path do it."""
    if not enabled() or type(params) is not StaticAffineQuantParams or params.num_bits != 8 or get_export_mode():
        return None
    if (not isinstance(params.granularity, PerTensor) or params.dequantize_dtype not in (None, torch.float32)
            or params.quantized_dtype not in (None, torch.int8, torch.float32)):
        return None
    raw = data.raw_data
    if not raw.is_cpu or _grad_blocked(raw):
        return None
    x = _activation(data)  # int8 codes, also of float raw data (the quantizer's own or checked)
    qy = _scalar_qparam(params.scale, params.offset)
    if x is None or qy is None:
        return None
    key = (x.qp.scale, x.qp.zero_point, qy.scale, qy.zero_point)
    table = _requant_cache.get(key)
    if table is None:
        from fastforward.quantization.affine._affine import dequantize_static, quantize_static

        codes = torch.arange(-128, 128, dtype=torch.int8)
        xp = _static_params(data)
        real = dequantize_static(codes, dataclasses.replace(xp, dequantize_dtype=torch.float32))
        q, _, _ = quantize_static(real, params.scale.detach(), None if params.offset is None else params.offset.detach(),
                                  PerTensor(), 8)
        table = _by_byte(q).to(torch.int8)
        if len(_requant_cache) > 4096:
            _requant_cache.clear()
        _requant_cache[key] = table
    if isinstance(params.scale, torch.Tensor) and (params.offset is None or isinstance(params.offset, torch.Tensor)):
        return _by_table(raw, x.raw, key, table, params.scale, params.offset, params.quantized_dtype, qy)
    y = _apply_table(x.raw, table)
    _note("requantize", "integer")
    if params.quantized_dtype != torch.int8:
        y = y.to(torch.float32)
    out = dataclasses.replace(params, dequantize_dtype=torch.float32)
    return QuantizationContext(AffineQuantizationFunction, out).attach(y)


def _by_table(raw: torch.Tensor, q8: torch.Tensor, key: Tuple[Any, ...], table: torch.Tensor,
              scale: torch.Tensor, offset: Optional[torch.Tensor], storage: Any, qy: _ffqrt.QParam) -> torch.Tensor:
    """Requantization of a tensor (raw data ``raw``, int8 codes ``q8``) by its table onto the
    grid (scale, offset, storage; ``qy``): shared data when the table is the identity and
    the storage allows (``_same_grid``), else the table applied to the codes."""
    _note("requantize", "integer")
    if _is_identity(key, table):
        same = _same_grid(raw, q8, scale, offset, storage, qy)
        if same is not None:
            return same
    return _wrap_grid(_apply_table(q8, table), scale, offset, storage, qy)


def _unary_extra(b: Dict[str, Any], op: str) -> Optional[Tuple[Any, ...]]:
    """The op's arguments after the input that the table depends on (None: not taken)."""
    if op == "gelu":
        if b.get("approximate", "none") not in ("none", "tanh"):
            return None
        return (b.get("approximate", "none"),)
    if op == "pow":
        e = b["exponent"]
        return (e,) if type(e) in (int, float) else None  # (a tensor exponent: simulated)
    names = _TABLE_OPTIONS.get(op)
    if names is None:
        return ()
    values = tuple(b.get(name) for name in names)
    # number options only (a tensor bound of clamp: simulated); clamp's bounds may be None,
    # not both (torch's error, on the simulated path)
    if op == "clamp":
        if all(v is None for v in values) or not all(v is None or type(v) in (int, float) for v in values):
            return None
        return values
    return values if all(type(v) in (int, float) for v in values) else None



def _unary_operand(b: Dict[str, Any], op: str) -> Optional[Tuple[_Act, Tuple[Any, ...]]]:
    """(the input's codes, the op's table arguments), or None: not taken."""
    x = _activation(b["input"])
    extra = _unary_extra(b, op)
    return None if x is None or extra is None else (x, extra)


def _plan_unary(b: Dict[str, Any], op: str) -> Optional[Plan]:
    how = _output(b.get("output_quantizer"))
    if how[0] == _FLOAT:
        return _plan_unary_float(b, op)
    operand = _unary_operand(b, op) if how[0] == _REQUANT else None
    if operand is None:
        return None
    x, extra = operand

    def run() -> torch.Tensor:
        qy, quantizer = how[1]
        table = _lut(op, extra, x.qp, quantizer, qy)
        if _is_identity(_lut_key(op, extra, x.qp, qy), table):
            # every code maps to itself (dropout outside training onto the grid it came
            # from): the input's raw data and codes, shared as a requantization shares them
            # (the codes' own alias of the raw data: one that is the codes themselves keeps
            # them attached under inference_mode, where a new alias has no version counter)
            codes = _codes_of(b["input"])
            raw = codes.raw if codes is not None and codes.q8 is x.raw else b["input"].raw_data
            same = _same_grid(raw, x.raw, quantizer.scale, quantizer.offset, quantizer.quantized_dtype, qy)
            if same is not None:
                return same
        return _finish(_apply_table(x.raw, table), how)

    return run


def _plan_unary_float(b: Dict[str, Any], op: str) -> Optional[Plan]:
    """The op with a float result (no output quantizer: ``F.gelu(x)`` in model code that
    autoquant left as it was, e.g. transformers' ``self.act(x)``) of a per-tensor 8-bit
    input: a table of 256 floats, the op computed by torch on the 256 dequantized codes
    as the simulation computes it on the whole tensor, looked up in C. The same value for
    every element, except where torch itself computes an element another way (its scalar
    code for the last elements of a thread's range: measured within two float steps)."""
    if torch.is_grad_enabled() or get_export_mode():
        return None
    # a torch call (no strict_quantization argument) under strict quantization: the
    # simulated path raises its QuantizationError
    strict = b.get("strict_quantization")
    if strict or (strict is None and get_strict_quantization()):
        return None
    # (_static_params: a per-tensor 8-bit input dequantized to float32, which the codes
    # shortcut in _activation does not check)
    operand = _unary_operand(b, op) if _static_params(b["input"]) is not None else None
    if operand is None:
        return None
    x, extra = operand

    def run() -> torch.Tensor:
        return _ffqrt.lut_f32(_dense8(x.raw), _float_lut(op, extra, x.qp))

    return run


def _plan_cat(b: Dict[str, Any]) -> Optional[Plan]:
    """``cat`` of per-tensor 8-bit inputs onto a static output grid (the rotary embedding's
    ``cat((-x2, x1), dim=-1)``): each input's codes through the table of its grid onto the
    output's (the simulation's quantizer on its dequantized codes; shared when the grids
    are one), then the codes concatenated: the simulation's integers, exactly."""
    how = _output(b.get("output_quantizer"))
    tensors, dim = b["tensors"], b["dim"]
    if how[0] != _REQUANT or type(tensors) not in (list, tuple) or not tensors or type(dim) is not int:
        return None
    acts = []
    for t in tensors:
        x = _activation(t) if _static_params(t) is not None else None
        if x is None:
            return None
        acts.append(x)
    ndim = acts[0].raw.dim()
    if ndim == 0 or not -ndim <= dim < ndim or any(x.raw.dim() != ndim for x in acts):
        return None

    def run() -> torch.Tensor:
        qy, quantizer = how[1]
        parts = []
        for x in acts:
            table = _lut("positive", (), x.qp, quantizer, qy)
            same = _is_identity(_lut_key("positive", (), x.qp, qy), table)
            parts.append(x.raw if same else _apply_table(x.raw, table))
        return _finish(torch.cat(parts, dim), how)

    return run


def _plan_dropout(b: Dict[str, Any]) -> Optional[Plan]:
    """Dropout outside training (or with p = 0) is the identity: the input's codes through
    the output quantizer, by table. Training dropout draws random numbers: simulated."""
    if b.get("training", True) and b.get("p", 0.5) != 0:
        return None
    return _plan_unary(b, "positive")


def _plan_embedding(b: Dict[str, Any]) -> Optional[Plan]:
    """An embedding lookup in a quantized table (per tensor, or per row as weight quantizers
    make it): the selected rows' integers, dequantized by the same function the simulated
    path applies to the whole table, so the values are the same while the rest of the table
    is never touched. Outside autograd and without ``max_norm`` (which rewrites the table)."""
    from fastforward.quantization.affine import _kernels as K

    w, idx = b.get("weight"), b.get("input")
    if torch.is_grad_enabled() or b.get("max_norm") is not None:
        return None
    pad = b.get("padding_idx")
    if pad is not None and not (type(pad) is int and type(w) is QuantizedTensor and w.dim() == 2
                                and -int(w.shape[0]) <= pad < int(w.shape[0])):
        return None  # (torch's error for a padding index out of the table, on the simulated path)
    if type(idx) is not torch.Tensor or idx.dtype not in (torch.int64, torch.int32) or not idx.is_cpu:
        return None
    params = _static_params(w)
    if params is None or w.dim() != 2 or not w.is_cpu:
        return None
    scale, offset = params.scale, params.offset
    if not isinstance(scale, torch.Tensor) or scale.dtype != torch.float32 or not scale.is_cpu:
        return None
    if offset is not None and (not isinstance(offset, torch.Tensor) or offset.dtype != torch.float32
                               or not offset.is_cpu):
        return None
    g, n = params.granularity, int(w.shape[0])
    if isinstance(g, PerTensor) and scale.numel() == 1 and (offset is None or offset.numel() == 1):
        per_row = False
    elif (type(g) is PerChannel and [d % 2 for d in g.channel_dims] == [0] and scale.numel() == n
          and (offset is None or offset.numel() == n)):
        per_row = True
    else:
        return None
    out = b.get("output_quantizer")

    def run() -> torch.Tensor:
        flat = idx.reshape(-1).to(torch.int64)  # (index_select takes int64 on every torch version)
        rows = w.raw_data.detach().index_select(0, flat)
        s, o = scale.detach().reshape(-1), None if offset is None else offset.detach().reshape(-1)
        if per_row:
            s, o = s.index_select(0, flat), None if o is None else o.index_select(0, flat)
            tile = (1, int(rows.shape[1]))
        else:
            tile = tuple(rows.shape)
        value = K.dequantize_raw(rows, s, o, tile, 8).reshape(tuple(idx.shape) + (int(rows.shape[1]),))
        return value if out is None else out(value)

    return run


# id(QuantizedTensor) -> (weak reference to it, its raw data's version, the float values):
# a quantized layer-norm weight or bias is the same unchanged tensor on every call (the
# quantizer returns its last result for an unchanged parameter), dequantized once.
_float_params: Dict[int, Tuple[Any, int, Optional[torch.Tensor]]] = {}


def _float_param(t: Any, n: int) -> Tuple[bool, Optional[torch.Tensor]]:
    """``_float_bias(t, n)``, kept for a QuantizedTensor while its raw data are unchanged."""
    if type(t) is not QuantizedTensor or torch.is_grad_enabled():
        return _float_bias(t, n)
    try:
        version = t.raw_data._version
    except RuntimeError:  # inference tensors have no version counter
        return _float_bias(t, n)
    hit = _float_params.get(id(t))
    if hit is not None and hit[0]() is t and hit[1] == version:
        return True, hit[2]
    ok, value = _float_bias(t, n)
    if ok:
        if len(_float_params) > 4096:
            _float_params.clear()
        _float_params[id(t)] = (weakref.ref(t), version, value)
    return ok, value


def _row_operand(b: Dict[str, Any]) -> Optional[Tuple[_Act, Tuple[int, Any]]]:
    """(input codes, output) of a kernel over the input's last dimension onto a static output
    grid (layer norm, softmax), or None: a per-tensor 8-bit input of float32 values."""
    how = _output(b.get("output_quantizer"))
    if how[0] != _REQUANT or type(b["input"]) is not QuantizedTensor or b["input"].dtype != torch.float32:
        return None
    x = _activation(b["input"])
    if x is None or x.raw.dim() < 1 or int(x.raw.shape[-1]) == 0:
        return None
    return x, how


def _by_rows(x: _Act, how: Tuple[int, Any], kernel: Callable[[torch.Tensor], torch.Tensor]) -> Plan:
    """The plan running ``kernel`` on the codes as rows of their last dimension."""
    raw = x.raw
    d = int(raw.shape[-1])

    def run() -> torch.Tensor:
        x2 = raw.reshape(-1, d)
        y = kernel(x2 if x2.is_contiguous() else x2.contiguous())
        return _finish(y.reshape(raw.shape), how)

    return run


def _plan_layer_norm(b: Dict[str, Any]) -> Optional[Plan]:
    """Layer norm over the last dimension of a per-tensor 8-bit input onto a static output
    grid, in one C call: the moments from the integer codes, the rest in float, quantized
    with the quantizers' rounding (within a step of the simulation's float layer norm)."""
    operand = _row_operand(b)
    if operand is None:
        return None
    x, how = operand
    shape = b["normalized_shape"]
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    d = int(x.raw.shape[-1])
    if len(dims) != 1 or int(dims[0]) != d or d > _ffqrt.LAYER_NORM_MAX_D:
        return None
    eps = b["eps"]
    if type(eps) not in (float, int) or not 0.0 <= eps < math.inf:
        return None
    if b.get("strict_quantization") and b["weight"] is not None and not isinstance(b["weight"], QuantizedTensor):
        return None  # (the schema's weight is quantized: the simulated path raises)
    ok_w, gamma = _float_param(b["weight"], d)
    ok_b, beta = _float_param(b["bias"], d)
    if not (ok_w and ok_b):
        return None
    return _by_rows(x, how, lambda x2: _ffqrt.layer_norm8(x2, x.qp, gamma, beta, float(eps), how[1][0]))


def _pool_pair(v: Any) -> Optional[Tuple[int, int]]:
    """``_pair``, and a one-element sequence read as both, as torch's pooling reads it."""
    return _pair(v[0] if type(v) in (list, tuple) and len(v) == 1 else v, "pooling")


def _pool_args(kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               ceil_mode: Any) -> Optional[Tuple[Any, ...]]:
    """max_pool2d's arguments as pairs of ints (stride None or empty: the kernel), or None
    for anything else (torch then decides, and raises its own errors)."""
    kernel = _pool_pair(kernel_size)
    step = kernel if stride is None or (type(stride) in (list, tuple) and len(stride) == 0) else _pool_pair(stride)
    pad, dil = _pool_pair(padding), _pool_pair(dilation)
    if kernel is None or step is None or pad is None or dil is None or type(ceil_mode) is not bool:
        return None
    return kernel, step, pad, dil, ceil_mode


def _pooled(raw: torch.Tensor, pool: Callable[[torch.Tensor], Optional[torch.Tensor]]) -> Optional[torch.Tensor]:
    """``pool`` (a libffqrt pooling call on a 4-D tensor) of a 3-D or 4-D tensor, contiguous
    or channels_last (other layouts are copied first), or None when C does not take it."""
    squeeze = raw.dim() == 3
    x = raw.unsqueeze(0) if squeeze else raw
    if x.dim() != 4 or not x.is_cpu or x.layout != torch.strided:
        return None
    if not (x.is_contiguous() or _ffqrt.channels_last_dense(x)):
        x = x.contiguous()
    try:
        y = pool(x)
    except ValueError:
        return None  # torch's own call decides (and raises what torch raises)
    if y is None:
        return None
    return y.squeeze(0) if squeeze else y


def _pool_codes(raw: torch.Tensor, args: Tuple[Any, ...]) -> Optional[torch.Tensor]:
    """``max_pool2d`` of a float32 / int8 / uint8 tensor in C (``_pooled``)."""
    return _pooled(raw, lambda x: _ffqrt.max_pool2d(x, *args))


def _empty_windows(raw: torch.Tensor, args: Tuple[Any, ...]) -> bool:
    """Whether a window of the pool lies wholly in the padding or between dilated taps
    outside the image (only possible with dilation > 1: an undilated window overlaps the
    image as torch bounds the padding and the output size)."""
    kernel, step, pad, dil, ceil_mode = args
    for axis in (0, 1):
        if dil[axis] == 1:
            continue
        size, k, s, p, d = int(raw.shape[raw.dim() - 2 + axis]), kernel[axis], step[axis], pad[axis], dil[axis]
        for i in range(_ffqrt._pool_out(size, k, s, p, d, ceil_mode)):
            start = i * s - p
            if not any(0 <= start + t * d < size for t in range(k)):
                return True
    return False


def _plan_max_pool2d(b: Dict[str, Any]) -> Optional[Plan]:
    """``max_pool2d`` of a per-tensor 8-bit input: max pooling picks elements, and the
    largest code is the code of the largest value (a positive scale), so the codes are
    pooled in C (when the plan is made) and the result is what the simulation gives
    exactly: the codes through the table onto the output grid (shared when the grids are
    one), or their dequantized values for a float result."""
    if b.get("return_indices") or get_export_mode():
        return None  # (an export records torch's ops)
    args = _pool_args(b["kernel_size"], b.get("stride"), b.get("padding", 0), b.get("dilation", 1),
                      b.get("ceil_mode", False))
    how = _output(b.get("output_quantizer"))
    x = _activation(b["input"]) if args is not None and how[0] >= 0 else None
    if x is None or not x.qp.scale > 0 or x.raw.dim() not in (3, 4):
        return None
    if how[0] == _FLOAT and torch.is_grad_enabled():
        return None
    if _empty_windows(x.raw, args):
        return None  # the simulation's pool gives -inf there, which no code holds
    y = _pool_codes(x.raw, args)  # (here: arguments C does not take leave the call to torch)
    if y is None:
        return None

    def run() -> torch.Tensor:
        nonlocal y
        if how[0] == _REQUANT:
            qy, quantizer = how[1]
            table = _lut("positive", (), x.qp, quantizer, qy)
            if not _is_identity(_lut_key("positive", (), x.qp, qy), table):
                y = _apply_table(y, table)
            return _finish(y, how)
        values = _ffqrt.lut_f32(_dense8(y), _float_lut("positive", (), x.qp))
        return _finish(values, how)

    return run


# --- batch norm of a quantized input ------------------------------------------------------------

class _BatchNormForm:
    """How one batch norm runs on one input grid, with what it was made from: the
    statistics and affine tensors (weak references, version counters, data pointers).
    ``a``, ``b``: each channel's scale and shift for ``ffqrt_affine_f32_channels`` (None
    when no fused form gives torch's values), ``tables``: each channel's 256 values."""

    __slots__ = ("refs", "versions", "ptrs", "a", "b", "tables", "call", "codes_on")

    def __init__(self, tensors: Tuple[Any, ...], qp: _ffqrt.QParam, a: Optional[torch.Tensor],
                 b: Optional[torch.Tensor], tables: torch.Tensor) -> None:
        self.refs = tuple(None if t is None else weakref.ref(t) for t in tensors)
        self.versions = tuple(None if t is None else t._version for t in tensors)
        self.ptrs = tuple(None if t is None else t.data_ptr() for t in tensors)
        self.a, self.b, self.tables = a, b, tables
        self.call = None if a is None else _ffqrt.AffineChannelsCall(qp, a, b)
        self.codes_on: Dict[Tuple[Any, ...], torch.Tensor] = {}

    def current(self, tensors: Tuple[Any, ...]) -> bool:
        for t, ref, version, ptr in zip(tensors, self.refs, self.versions, self.ptrs):
            if t is None:
                if ref is not None:
                    return False
            elif ref is None or ref() is not t or t._version != version or t.data_ptr() != ptr:
                return False
        return True

    def codes_table(self, scale: torch.Tensor, qp: _ffqrt.QParam) -> Optional[torch.Tensor]:
        """``[channels, 256]`` int8: each channel's values (``tables``) quantized onto the
        grid ``qp`` (one-entry ``scale`` tensor of that grid) by the call that quantizes a
        float input onto it, so that the codes of the result computed from input codes
        ``k`` are ``codes_table[c][k]``."""
        key = (qp.scale, qp.zero_point)
        found = self.codes_on.get(key)
        if found is None:
            from fastforward.quantization.affine._kernels import _zero_point_tensor

            zp = None if qp.zero_point == 0 else _zero_point_tensor(qp.zero_point)
            flat = self.tables.reshape(-1)
            found = _ffqrt.quantize_int8(flat, (flat.numel(),), scale, zp)
            if found is None:
                return None
            found = found.view(self.tables.shape)
            if len(self.codes_on) > 16:
                self.codes_on.clear()
            self.codes_on[key] = found
        return found


class _BatchNormOrigin:
    """Of a batch norm's float result (``_bn_origins``): a private copy of the int8 codes it was computed from and the form, valid while the
    result is unchanged (version counter, data pointer), so that a quantizer of the result
    can look its codes up a channel at a time instead of quantizing the floats."""

    __slots__ = ("codes", "form", "version", "ptr")

    def __init__(self, codes: torch.Tensor, form: "_BatchNormForm", y: torch.Tensor) -> None:
        self.codes, self.form, self.version, self.ptr = codes, form, y._version, y.data_ptr()

    def current(self, y: torch.Tensor) -> bool:
        return y._version == self.version and y.data_ptr() == self.ptr


# id(result) -> (weak reference to the result, its origin): kept beside the tensor, not in
# its attributes, which torch would pickle and copy with it (torch.save of the result)
_bn_origins: Dict[int, Tuple[Any, _BatchNormOrigin]] = {}


def _drop_origin(key: int) -> Callable[[Any], None]:
    def drop(ref: Any) -> None:
        found = _bn_origins.get(key)
        if found is not None and found[0] is ref:
            del _bn_origins[key]

    return drop


def _set_bn_origin(y: torch.Tensor, origin: _BatchNormOrigin) -> None:
    if len(_bn_origins) > 4096:
        _bn_origins.clear()
    key = id(y)
    _bn_origins[key] = (weakref.ref(y, _drop_origin(key)), origin)


def bn_codes_of(x: torch.Tensor) -> Optional[_BatchNormOrigin]:
    """The current origin of a batch norm's float result ``x``, or None."""
    found = _bn_origins.get(id(x))
    if found is None or found[0]() is not x:
        return None
    try:
        return found[1] if found[1].current(x) else None
    except RuntimeError:  # (an inference tensor)
        return None



_bn_forms: Dict[Tuple[Any, ...], _BatchNormForm] = {}


def _bn_param(t: Any, c: int, optional: bool) -> bool:
    if t is None:
        return optional
    return (type(t) in (torch.Tensor, torch.nn.Parameter) and t.dtype == torch.float32 and t.is_cpu
            and t.layout == torch.strided and t.dim() == 1 and int(t.shape[0]) == c and not t.is_inference()
            and not _grad_blocked(t))


def _bn_affine_candidates(tensors: Tuple[Any, ...], eps: float) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """Per-channel (scale, shift) pairs as torch's CPU kernels compute them in eval mode:
    1 / sqrt(var + eps) or rsqrt, times the weight; the shift bias - mean * scale fused or
    rounded twice. Which one a torch build uses is found by trying them on every code."""
    mean, var, weight, bias = (None if t is None else t.detach() for t in tensors)
    e = torch.tensor(eps, dtype=torch.float32)
    out = []
    for inv in (torch.rsqrt(var + e), 1.0 / torch.sqrt(var + e)):
        a = inv if weight is None else inv * weight
        b0 = torch.zeros_like(a) if bias is None else bias
        fused = (b0.double() - mean.double() * a.double()).float()  # (mean * a is exact in float64)
        for b in (fused, b0 - mean * a):
            out.append((a.contiguous(), b.contiguous()))
    return out


def _batch_norm_form(qp: _ffqrt.QParam, tensors: Tuple[Any, ...], eps: float, kind: int) -> _BatchNormForm:
    """The batch norm's per-channel functions of the input's 256 codes: torch's own batch
    norm in eval mode on the dequantized codes, laid out as the input is (``kind``: 0
    planes of several elements, 1 one element a channel, 2 channels_last), so that each
    value is the one torch's kernel for that layout computes for it; and, when one of the
    candidate (scale, shift) pairs gives every one of those values through libffqrt's fused
    multiply-add, that pair (an arithmetic pass, several times faster than the lookups)."""
    key = (tuple([id(t) for t in tensors]), eps, qp.scale, qp.zero_point, kind)  # (as _bn_form_of's)
    found = _bn_forms.get(key)
    if found is not None and found.current(tensors):
        return found
    mean, var, weight, bias = tensors
    c = int(mean.shape[0])
    values = _all_codes_dequantized(qp)  # the codes -128..127
    with torch.no_grad():
        if kind == 0:
            x = values.expand(1, c, 256).contiguous()
        elif kind == 1:
            x = values.reshape(256, 1).expand(256, c).contiguous()
        else:
            x = values.reshape(1, 1, 16, 16).expand(1, c, 16, 16).contiguous(memory_format=torch.channels_last)
        y = F.batch_norm(x, mean, var, weight, bias, False, 0.0, eps)
        per_code = (y.reshape(256, c).t() if kind == 1 else y.reshape(c, 256)).contiguous()  # [c, code]
        tables = torch.cat([per_code[:, 128:], per_code[:, :128]], dim=1).contiguous()
        codes = torch.arange(-128, 128, dtype=torch.int16).to(torch.int8).expand(1, c, 256).contiguous()
        a = b = None
        for ca, cb in _bn_affine_candidates(tensors, eps):
            got = _ffqrt.affine_f32_channels(codes, qp, ca, cb)
            if got is not None and torch.equal(got.reshape(c, 256).view(torch.int32), per_code.view(torch.int32)):
                a, b = ca, cb
                break
    if len(_bn_forms) > 1024:
        _bn_forms.clear()
    found = _bn_forms[key] = _BatchNormForm(tensors, qp, a, b, tables)
    return found


def _bn_form_of(b: Dict[str, Any]) -> Optional[Tuple[torch.Tensor, _BatchNormForm, int]]:
    """(the input's int8 codes, the form, the layout kind) of the batch norm call ``b``
    (its arguments by name) when ``_plan_batch_norm`` takes it, else None."""
    if b["training"] is not False or get_strict_quantization() or get_export_mode():
        return None
    x = _activation(b["input"])
    if x is None or x.raw.dim() < 2 or x.raw.dtype != torch.int8:
        return None
    raw, qp = x.raw, x.qp
    tensors = (b["running_mean"], b["running_var"], b["weight"], b["bias"])
    eps = b["eps"]
    if type(eps) not in (float, int) or not 0.0 <= eps < math.inf:
        return None
    if raw.is_contiguous():
        kind = 1 if raw.numel() == int(raw.shape[0]) * int(raw.shape[1]) else 0
    elif _ffqrt.channels_last_dense(raw):
        kind = 2
    else:
        return None
    # a form made for these very tensors, unchanged since, holds for them (they were checked
    # then, and only a gradient switched on since could differ); (written out: this runs per call)
    mean, var, weight, bias = tensors
    form = _bn_forms.get(((id(mean), id(var), id(weight), id(bias)), float(eps), qp.scale, qp.zero_point, kind))
    if form is None or not form.current(tensors) or (torch.is_grad_enabled() and any(
            t is not None and t.requires_grad for t in tensors)):
        c = int(raw.shape[1])
        if c == 0 or not all(_bn_param(t, c, i >= 2) for i, t in enumerate(tensors)):
            return None
        form = _batch_norm_form(qp, tensors, float(eps), kind)
    elif int(raw.shape[1]) != int(tensors[0].shape[0]):
        return None
    return raw, form, kind


def _plan_batch_norm(b: Dict[str, Any]) -> Optional[Plan]:
    """``batch_norm`` in eval mode (running statistics, ``training`` False) of a per-tensor
    8-bit input (timm's ``BatchNormAct2d`` and ``nn.BatchNorm2d`` after a convolution whose
    output is quantized): each channel is a function of the input's 256 codes, which
    ``_batch_norm_form`` finds torch's own values of, so the float result is the
    simulation's value for value, in one C pass over the codes (a fused multiply-add a
    channel, or a table a channel) instead of a dequantization and torch's pass over the
    floats. Strict quantization leaves the call to the simulated path, which raises its
    error."""
    found = _bn_form_of(b)
    if found is None:
        return None
    raw, form, kind = found
    call = form.call
    if call is not None and kind != 2:

        def run() -> torch.Tensor:
            y = call(raw)
            if not y.is_inference():
                _set_bn_origin(y, _BatchNormOrigin(raw.clone(), form, y))
            return y

        return run
    if call is not None:
        return lambda: call(raw)
    tables = form.tables
    return lambda: _ffqrt.lut_f32_channels(raw, tables)


def float_max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: Any = False) -> Optional[torch.Tensor]:
    """``F.max_pool2d`` of a plain float32 NCHW tensor in C while the integer path is on (the
    same values, NaN included: max pooling only picks elements), or None for torch to do
    it (``_float_pool_input``: the integer path off, autograd recording, a trace or export,
    another dtype, device or layout; or arguments the kernel does not take). torch's own
    NCHW kernel is several times slower than this one (a ResNet stem's pool: 3.1 ms)."""
    if not _float_pool_input(input):
        return None
    args = _pool_args(kernel_size, stride, padding, dilation, ceil_mode)
    return None if args is None else _pool_codes(input, args)


def _float_pool_input(x: Any) -> bool:
    """A plain float32 CPU tensor in NCHW order (3-D or 4-D, contiguous) that libffqrt may
    pool now: the integer path on, no autograd recording it, no trace, export or compile.
    (channels_last inputs stay with torch, whose kernels are fast for that layout.)"""
    return (type(x) is torch.Tensor and x.dtype == torch.float32 and x.dim() in (3, 4) and x.is_cpu
            and x.layout == torch.strided and x.is_contiguous() and enabled() and not _grad_blocked(x)
            and not get_export_mode() and not _compiling())


def float_avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: Any = False,
                     count_include_pad: Any = True, divisor_override: Any = None) -> Optional[torch.Tensor]:
    """``F.avg_pool2d`` of a plain float32 NCHW tensor in C while the integer path is on:
    the same bits as torch's CPU kernel (each window summed in row-major order in float32,
    then divided), 2.5-3x faster than torch's NCHW kernel (an Inception block's 3x3
    stride-1 pool of 256 x 35 x 35: 1.3 -> 0.5 ms); None for torch to do it
    (``_float_pool_input``, or arguments the kernel does not take)."""
    if not _float_pool_input(input):
        return None
    args = _pool_args(kernel_size, stride, padding, 1, ceil_mode)
    if args is None or type(count_include_pad) is not bool or not (
            divisor_override is None or type(divisor_override) is int):
        return None
    kernel, step, pad, _, ceil_mode = args
    return _pooled(input, lambda x: _ffqrt.avg_pool2d(x, kernel, step, pad, ceil_mode, count_include_pad,
                                                      divisor_override))


# Below this many elements torch's own call costs less than the trip into C.
_ACT_MIN_ELEMS = 4096


def float_activation(act: str, x: Any) -> Optional[torch.Tensor]:
    """``act`` (``"gelu_tanh"``, GELU's tanh approximation) of a plain float32 CPU tensor,
    contiguous or channels_last, in C while the integer path is on (``_ffqrt.act_f32``: a
    transformer MLP's 128 x 3072 values in 95 us instead of torch's 370 us on two Zen 4
    cores), or None for torch to do it: the integer path off, autograd recording, a trace,
    export or compile, another dtype, device or layout, or fewer than ``_ACT_MIN_ELEMS``
    values. The values are not torch's bits: both are within float rounding of the exact
    function (torch's within 4.4e-7 of it here, ours within 2^-22 max(1, |x|)), which moves
    a code of a quantizer after it only where its input falls that close to a rounding
    boundary. (torch's erf GELU and SiLU run near the FMA units' limit already: C versions
    measured 0.7x and 1.1x of them, so they stay with torch.)"""
    if not (type(x) is torch.Tensor and x.dtype == torch.float32 and x.is_cpu and x.layout == torch.strided
            and x.numel() >= _ACT_MIN_ELEMS and enabled() and not _grad_blocked(x) and not get_export_mode()
            and not _compiling()):
        return None
    if not (x.is_contiguous() or _ffqrt.channels_last_dense(x)) or (_ffqrt._HAS_NEG and x.is_neg()):
        return None
    y = _ffqrt.act_f32(x, act)
    if y is not None:
        _note(act, "integer")
    return y


def _compiling() -> bool:
    """Whether torch.compile is tracing now. Read from the dynamo module only when something
    imported it already (nothing compiles without it): the attribute ``torch._dynamo``
    imports dynamo on first access, seconds of work."""
    dynamo = sys.modules.get("torch._dynamo")
    is_compiling = getattr(dynamo, "is_compiling", None) if dynamo is not None else None
    return bool(is_compiling()) if is_compiling is not None else False


def _plan_softmax(b: Dict[str, Any]) -> Optional[Plan]:
    """Softmax over the last dimension of a per-tensor 8-bit input onto a static output grid
    in one C call (within a step of the simulation's float softmax)."""
    operand = _row_operand(b)
    if operand is None or b.get("dtype") not in (None, torch.float32):
        return None
    x, how = operand
    dim = b["dim"]
    if type(dim) is not int or dim not in (-1, x.raw.dim() - 1):
        return None
    return _by_rows(x, how, lambda x2: _ffqrt.softmax8(x2, x.qp, how[1][0]))


# --- registration -------------------------------------------------------------------------------

_SIGNATURES: Dict[str, Tuple[Sequence[str], Dict[str, Any]]] = {
    "linear": (("input", "weight", "bias"), {"bias": None}),
    "conv1d": (("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
               {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}),
    "conv2d": (("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
               {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}),
    "matmul": (("input", "other"), {}),
    "mm": (("input", "mat2"), {}),
    "bmm": (("input", "mat2"), {}),
    "add": (("input", "other", "alpha"), {"alpha": 1}),
    "mul": (("input", "other"), {}),
    "addmm": (("input", "mat1", "mat2", "beta", "alpha"), {"beta": 1, "alpha": 1}),
    "gelu": (("input", "approximate"), {"approximate": "none"}),
    # torch.nn.functional's relu / silu pass `inplace` on (a new tensor either way: the
    # input is dequantized first)
    "relu": (("input", "inplace"), {"inplace": False}),
    "silu": (("input", "inplace"), {"inplace": False}),
    "leaky_relu": (("input", "negative_slope", "inplace"), {"negative_slope": 0.01, "inplace": False}),
    "hardtanh": (("input", "min_val", "max_val", "inplace"), {"min_val": -1.0, "max_val": 1.0, "inplace": False}),
    "relu6": (("input", "inplace"), {"inplace": False}),
    "elu": (("input", "alpha", "inplace"), {"alpha": 1.0, "inplace": False}),
    "hardswish": (("input", "inplace"), {"inplace": False}),
    "hardsigmoid": (("input", "inplace"), {"inplace": False}),
    "mish": (("input", "inplace"), {"inplace": False}),
    "softplus": (("input", "beta", "threshold"), {"beta": 1, "threshold": 20}),
    "clamp": (("input", "min", "max"), {"min": None, "max": None}),
    "dropout": (("input", "p", "training", "inplace"), {"p": 0.5, "training": True, "inplace": False}),
    "embedding": (("input", "weight", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse"),
                  {"padding_idx": None, "max_norm": None, "norm_type": 2.0, "scale_grad_by_freq": False,
                   "sparse": False}),
    "layer_norm": (("input", "normalized_shape", "weight", "bias", "eps"), {"weight": None, "bias": None, "eps": 1e-5}),
    "softmax": (("input", "dim", "dtype"), {"dtype": None}),
    "cat": (("tensors", "dim"), {"dim": 0}),
    "pow": (("input", "exponent"), {}),
    "batch_norm": (("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"),
                   {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5}),
    "max_pool2d": (("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
                   {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False}),
}


# The arguments after the input that the table of an op with options depends on: its
# signature's, in the order its _UNARY function takes them (inplace does not matter: the
# input is dequantized into a new tensor first, on the simulated path too).
_TABLE_OPTIONS: Dict[str, Tuple[str, ...]] = {
    op: tuple(name for name in _SIGNATURES[op][0][1:] if name != "inplace")
    for op in ("leaky_relu", "hardtanh", "elu", "softplus", "clamp")
}


def _planner(op: str) -> Callable[[Dict[str, Any]], Optional[Plan]]:
    if op == "linear":
        return _plan_linear
    if op == "addmm":
        return _plan_addmm
    if op in ("conv1d", "conv2d"):
        dims = 1 if op == "conv1d" else 2
        return lambda b: _plan_conv(b, dims)
    if op in ("matmul", "mm", "bmm"):
        second = "other" if op == "matmul" else "mat2"
        return lambda b: _plan_matmul(b, "input", second, op)
    if op in ("add", "mul"):
        return lambda b: _plan_eltwise(b, op)
    if op == "cat":
        return _plan_cat
    if op == "dropout":
        return _plan_dropout
    if op == "embedding":
        return _plan_embedding
    if op == "layer_norm":
        return _plan_layer_norm
    if op == "softmax":
        return _plan_softmax
    if op == "max_pool2d":
        return _plan_max_pool2d
    if op == "batch_norm":
        return _plan_batch_norm
    return lambda b: _plan_unary(b, op)


def _learns(quantizer: Any) -> bool:
    """A module with a parameter that requires a gradient (an output quantizer whose scale
    or offset is trained, with the model's weights frozen): under autograd, the simulation
    records the quantizer's step on the op's result, which a kernel run outside autograd
    would drop."""
    return isinstance(quantizer, torch.nn.Module) and any(p.requires_grad for p in quantizer.parameters())


# (ArithmeticError: a zero stride, a size that overflows; the simulated path then raises torch's error)
_ERRORS = (TypeError, ValueError, IndexError, RuntimeError, AttributeError, ArithmeticError)
MISS = dispatcher.MISS


def _make(op: str) -> Tuple[Callable[..., bool], Callable[..., Any]]:
    names, defaults = _SIGNATURES.get(op, (("input",), {}))
    planner = _planner(op)

    def plan_for(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Plan]:
        if not enabled():
            return None
        bound = _bind(names, defaults, args, kwargs)
        if bound is None or not any(isinstance(v, QuantizedTensor) or (type(v) in (list, tuple) and v and all(
                isinstance(t, QuantizedTensor) for t in v)) for v in bound.values()):
            return None
        if bound.get("strict_quantization") and bound.get("output_quantizer") is None:
            return None  # the simulated path raises its QuantizationError
        if torch.is_grad_enabled() and _learns(bound.get("output_quantizer")):
            return None  # the simulation records the output quantizer's gradients (its scale)
        try:
            return planner(bound)
        except _ERRORS:
            return None  # anything odd: the simulated path decides (and raises torch's error)

    def predicate(*args: Any, **kwargs: Any) -> bool:
        plan = plan_for(args, kwargs)
        _local.pending = (op, args, kwargs, plan) if plan is not None else None
        return plan is not None

    def kernel(*args: Any, **kwargs: Any) -> Any:
        pending = _local.pending
        _local.pending = None
        if pending is not None and pending[0] == op and _same_call(pending, args, kwargs):
            plan = pending[3]
        else:
            plan = plan_for(args, kwargs)
        if plan is not None:
            with torch.no_grad():
                result = plan()
            _note(op, "integer")
            return result
        _note(op, "simulated")
        return _simulate(op, args, kwargs)

    def try_call(*args: Any, **kwargs: Any) -> Any:
        # predicate and kernel in one call, for callers that would call the kernel right
        # after its predicate accepted (fastforward.nn.functional, QuantizedTensor's
        # __torch_function__): MISS when it does not
        plan = plan_for(args, kwargs)
        if plan is None:
            return MISS
        if torch.is_grad_enabled():
            with torch.no_grad():
                result = plan()
        else:
            result = plan()
        _note(op, "integer")
        return result

    predicate.__name__ = "integer_%s_applies" % op
    kernel.__name__ = "integer_%s" % op
    if op == "linear":
        kernel.try_call = _linear_try(try_call)  # type: ignore[attr-defined]
    elif op in _TABLE_OPS:
        kernel.try_call = _unary_try(try_call, op, len(names))  # type: ignore[attr-defined]
    else:
        kernel.try_call = try_call  # type: ignore[attr-defined]
    return predicate, kernel


# the ops _planner hands to _plan_unary: a table of the input's 256 codes
_TABLE_OPS = ("relu", "gelu", "sigmoid", "silu", "negative", "positive", "exp", "sin", "cos", "pow", "rsqrt", "tanh",
              "leaky_relu", "hardtanh", "relu6", "elu", "hardswish", "hardsigmoid", "mish", "softplus", "erf", "sqrt",
              "clamp")


def _unary_try(general: Callable[..., Any], op: str, n_names: int) -> Callable[..., Any]:
    """``try_call`` of a table op with the common case inline: a functional call (every
    argument by keyword) outside autograd on an input carrying its codes, onto a static output
    grid. It checks what ``_plan_unary`` checks, through the same helpers, and looks up the
    same table; anything else (the identity table included) goes to ``general``."""
    key_count = n_names + 2

    def try_unary(*args: Any, **kwargs: Any) -> Any:
        if args or len(kwargs) != key_count or torch.is_grad_enabled() or not enabled():
            return general(*args, **kwargs)
        try:
            x, oq = kwargs["input"], kwargs["output_quantizer"]
            codes = _codes_of(x) if type(x) is QuantizedTensor and oq is not None else None
            if codes is None:
                return general(*args, **kwargs)
            how = _output(oq)
            extra = _unary_extra(kwargs, op) if how[0] == _REQUANT else None
            if extra is None:
                return general(*args, **kwargs)
            qy, quantizer = how[1]
            qx = codes.qp
            table = _lut(op, extra, qx, quantizer, qy)
            if _is_identity(_lut_key(op, extra, qx, qy), table):
                return general(*args, **kwargs)  # (the result shares the input's raw data there)
        except _ERRORS:
            return general(*args, **kwargs)  # (which decides as the planner does)
        result = _finish(_apply_table(codes.q8, table), how)
        _local.last = op + ":integer"
        return result

    return try_unary


def _linear_try(general: Callable[..., Any]) -> Callable[..., Any]:
    """``try_call`` of linear with the common case inline: a functional call (every argument
    by keyword) outside autograd on an input carrying its codes and a weight carrying a
    current pack. It checks what ``_plan_linear`` checks, through the same helpers, and runs
    the same C call; anything else goes to ``general``."""

    def try_linear(*args: Any, **kwargs: Any) -> Any:
        if args or len(kwargs) != 5 or torch.is_grad_enabled() or _state["dynamic"] or not enabled():
            return general(*args, **kwargs)
        try:
            x, w, bias, oq = kwargs["input"], kwargs["weight"], kwargs["bias"], kwargs["output_quantizer"]
            strict = kwargs["strict_quantization"]
        except KeyError:
            return general(*args, **kwargs)
        try:
            codes = _codes_of(x) if type(x) is QuantizedTensor else None
            entry = _kept_pack(w, "linear") if codes is not None and type(w) is QuantizedTensor else None
            if entry is None or (strict and oq is None):
                return general(*args, **kwargs)
            n, k = entry.layout
            a = codes.q8
            shape = a.shape
            if len(shape) < 1 or int(shape[-1]) != k or k > _ffqrt.LINEAR_MAX_K:
                return general(*args, **kwargs)
            how = (_FLOAT, None) if oq is None else _output(oq)
            if how[0] < 0:
                return general(*args, **kwargs)
            ok, fbias = _kept_bias(entry, bias, n)
            if not ok:
                return general(*args, **kwargs)
        except _ERRORS:
            return general(*args, **kwargs)  # (which decides as the planner does)
        flat = len(shape) == 2 and a.is_contiguous()
        y = _ffqrt.linear(a if flat else a.reshape(-1, k).contiguous(), codes.qp, entry.packed, fbias,
                          out=how[1][0] if how[0] == _REQUANT else None)
        result = _finish(y if flat else y.reshape(tuple(shape[:-1]) + (n,)), how)
        _local.last = "linear:integer"
        return result

    return try_linear


def _same_call(pending: Tuple[Any, ...], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> bool:
    p_args, p_kwargs = pending[1], pending[2]
    if len(p_args) != len(args) or set(p_kwargs) != set(kwargs):
        return False
    return all(a is b for a, b in zip(p_args, args)) and all(p_kwargs[k] is kwargs[k] for k in kwargs)


def _simulate(op: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """The op without the integer kernels (the dispatcher's next choice, or the fallback)."""
    with _simulated():
        if "output_quantizer" in kwargs and "strict_quantization" in kwargs:
            from fastforward.nn import functional

            return getattr(functional, op)(*args, **kwargs)
        fn = _TORCH_FNS[op]
        return fn(*args, **kwargs)


_TORCH_FNS: Dict[str, Callable[..., Any]] = {
    "linear": F.linear, "conv1d": F.conv1d, "conv2d": F.conv2d, "matmul": torch.matmul,
    "mm": torch.mm, "bmm": torch.bmm, "addmm": torch.addmm, "add": torch.add, "mul": torch.mul, "relu": torch.relu,
    "gelu": F.gelu, "sigmoid": torch.sigmoid, "silu": F.silu, "negative": torch.negative,
    "positive": torch.positive, "exp": torch.exp, "sin": torch.sin, "cos": torch.cos,
    "dropout": F.dropout, "embedding": F.embedding, "layer_norm": F.layer_norm, "softmax": torch.softmax,
    "cat": torch.cat, "pow": torch.pow, "rsqrt": torch.rsqrt, "tanh": torch.tanh,
    "max_pool2d": F.max_pool2d, "leaky_relu": F.leaky_relu, "hardtanh": F.hardtanh, "relu6": F.relu6,
    "elu": F.elu, "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "mish": F.mish,
    "softplus": F.softplus, "erf": torch.erf, "sqrt": torch.sqrt, "clamp": torch.clamp,
    "batch_norm": F.batch_norm,
}

OPS: List[str] = list(_TORCH_FNS)

# op -> the kernel registered for it (fastforward._layer_plan checks that it is still the
# dispatcher's first choice).
KERNELS: Dict[str, Callable[..., Any]] = {}

for _op in OPS:
    _pred, _kern = _make(_op)
    dispatcher.register(_op, _pred, _kern)
    KERNELS[_op] = _kern

_affine._REQUANTIZE.append(_requantize)
_ffqrt.want_dequantized[0] = lambda: not enabled()


# Shape ops on a per-tensor quantized tensor (flatten, reshape, ...) and the ops that only
# pick or repeat its elements (indexing, expand, narrow, split, ...) move its integers and
# keep its parameters: on the integer path they run on the raw data and on the attached int8
# codes alike, and the result stays quantized with its codes (the simulated path
# dequantizes, and the next quantizer quantizes again). A result without codes would send
# the next quantizer down the float path (transformers' repeat_kv is x[:, :, None]
# .expand(...).reshape(...)).
_SHAPE_OPS = ("flatten", "reshape", "view", "unsqueeze", "squeeze", "permute", "transpose", "t",
              "contiguous", "unflatten", "expand", "__getitem__", "narrow", "select", "flip", "movedim",
              "split", "chunk", "unbind")


_FLATTENING = ("flatten", "reshape", "view", "contiguous")


def _plain_index(key: Any) -> bool:
    """An index the same on the raw data and on the codes: ints, slices, None, Ellipsis,
    bools, lists of those, and plain integer / bool tensors (never a QuantizedTensor)."""
    for item in key if isinstance(key, tuple) else (key,):
        if item is None or item is Ellipsis or isinstance(item, (bool, int, slice)):
            continue
        if type(item) is torch.Tensor and not item.is_floating_point() and not item.is_complex():
            continue
        if isinstance(item, list) and all(isinstance(v, (bool, int)) for v in item):
            continue
        return False
    return True


def _shape_applies(*args: Any, **kwargs: Any) -> bool:
    if not enabled() or not args or not isinstance(args[0], QuantizedTensor):
        return False
    if len(args) == 2 and not kwargs and isinstance(args[1], (tuple, list, torch.Tensor)) \
            and not isinstance(args[1], torch.Size):
        # __getitem__'s key (or a shape / split sizes given as one sequence)
        if not _plain_index(args[1]) and not (isinstance(args[1], (tuple, list))
                                             and all(isinstance(v, int) for v in args[1])):
            return False
    elif any(isinstance(a, (torch.Tensor, torch.dtype)) for a in args[1:]) or any(
            isinstance(v, (torch.Tensor, torch.dtype)) for v in kwargs.values()):
        return False  # view(dtype) is left to the affine kernel, which refuses it
    params = _static_params(args[0])
    if params is None or not isinstance(params.granularity, PerTensor):
        return False
    return all(t is None or (isinstance(t, torch.Tensor) and t.numel() == 1) for t in (params.scale, params.offset))


def _shape_kernel(name: str) -> Callable[..., Any]:
    method = getattr(torch.Tensor, name)

    def wrap(out: torch.Tensor, q8: Optional[torch.Tensor], context: Any, codes: Any) -> QuantizedTensor:
        result = _wrap_plain(out, context) if type(out) is torch.Tensor else QuantizedTensor(out, context)
        if q8 is not None and type(out) is torch.Tensor:
            # the same op on the attached int8 codes: they stay the codes of the result
            if q8.shape == out.shape and (q8 is out or not out.is_inference()):  # (q8 may be one: _Codes)
                try:
                    result.__dict__[_CODES] = _Codes(out, q8, context, codes.qp, codes.scale, codes.offset)
                except RuntimeError:
                    pass
        return result

    def kernel(x: QuantizedTensor, *args: Any, **kwargs: Any) -> Any:
        _note(name, "integer")
        codes = None if torch.is_grad_enabled() else _codes_of(x)
        raw = x.raw_data
        if name in _FLATTENING and not raw.is_contiguous() and not raw.requires_grad:
            dense = _ffqrt.contiguous8(raw)  # channels_last bytes (conv outputs), made NCHW in C
            if dense is not None:
                raw = dense
        context = x.quantization_context
        out = method(raw, *args, **kwargs)
        q8: Any = None
        if codes is not None:
            q8 = out if codes.q8 is codes.raw else method(codes.q8, *args, **kwargs)
        if isinstance(out, (tuple, list)):  # split, chunk, unbind: each part with its codes' part
            parts = [None] * len(out) if q8 is None else q8
            return tuple(wrap(o, p, context, codes) for o, p in zip(out, parts))
        return wrap(out, q8, context, codes)

    kernel.__name__ = "integer_" + name.strip("_")
    return kernel


for _op in _SHAPE_OPS:
    dispatcher.register(_op, _shape_applies, _shape_kernel(_op))


# --- attention -----------------------------------------------------------------------------------
#
# fastforward.nn.functional.scaled_dot_product_attention asks the dispatcher first. Its
# integer kernel takes the common case of quantized attention: query, key and value 8-bit
# per-tensor QuantizedTensors (float32 values), static per-tensor 8-bit score and weight
# quantizers, no scaled query / key quantizers, no mask, no dropout. Then the scores are one
# int8 matmul requantized onto the score quantizer's grid (the scale folded into the query's
# grid), the softmax goes from the score codes onto the weight grid in one C call
# (ffqrt_softmax8), and the output is an int8 matmul of the weights' and the value's codes.
# Each step differs from the simulation's float one only by rounding: within one step of
# its grid.

_SDPA_ARGS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
_SDPA_DEFAULTS: Dict[str, Any] = {"attn_mask": None, "dropout_p": 0.0, "is_causal": False, "scale": None,
                                  "enable_gqa": False}
_SDPA_UNSUPPORTED = ("scaled_query_quantizer", "scaled_key_quantizer")  # (the kernel folds the scale)


def _plan_sdpa(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Plan]:
    if not enabled() or torch.is_grad_enabled() or get_export_mode() or len(args) > len(_SDPA_ARGS):
        return None
    b = dict(_SDPA_DEFAULTS)
    b.update(zip(_SDPA_ARGS, args))
    b.update(kwargs)
    if any(name not in b for name in _SDPA_ARGS[:3]):
        return None
    if b["attn_mask"] is not None or b["is_causal"] is not False or b["dropout_p"] != 0.0:
        return None
    from fastforward.nn import attention

    if any(attention._active(b.get(name)) for name in _SDPA_UNSUPPORTED):
        return None
    if attention._upcast and attention._upcast[-1] != torch.float32:
        return None
    ops = []
    for name in _SDPA_ARGS[:3]:
        t = b[name]
        if type(t) is not QuantizedTensor or t.dtype != torch.float32:
            return None
        act = _activation(t)
        if act is None or act.raw.dim() < 2:
            return None
        ops.append(act)
    xq, xk, xv = ops
    scores_how = _output(b.get("attn_scores_quantizer"))
    weights_how = _output(b.get("attn_weights_quantizer"))
    out_how = _output(b.get("output_quantizer"))
    if scores_how[0] != _REQUANT or weights_how[0] != _REQUANT or out_how[0] < 0:
        return None
    qr, kr, vr = xq.raw, xk.raw, xv.raw
    if not (qr.dim() == kr.dim() == vr.dim()):
        return None
    batch_shape = tuple(qr.shape[:-2])
    e, n_q, n_k = int(qr.shape[-1]), int(qr.shape[-2]), int(kr.shape[-2])
    ev = int(vr.shape[-1])
    if int(kr.shape[-1]) != e or int(vr.shape[-2]) != n_k or e == 0 or n_k == 0:
        return None
    if max(e, n_k) > _ffqrt.MATMUL_MAX_K:
        return None
    repeat = 1
    if tuple(kr.shape[:-2]) != batch_shape or tuple(vr.shape[:-2]) != batch_shape:
        # grouped-query attention: key / value heads repeated over the query heads
        if not (b["enable_gqa"] and qr.dim() >= 3 and tuple(kr.shape[:-3]) == batch_shape[:-1]
                and tuple(vr.shape[:-3]) == batch_shape[:-1] and int(kr.shape[-3]) == int(vr.shape[-3])
                and int(kr.shape[-3]) > 0 and batch_shape[-1] % int(kr.shape[-3]) == 0):
            return None
        repeat = batch_shape[-1] // int(kr.shape[-3])
    factor = 1.0 / math.sqrt(e) if b["scale"] is None else b["scale"]
    if type(factor) not in (float, int) or not (0.0 < factor < math.inf):
        return None
    qp_scaled = _ffqrt.QParam(float(xq.qp.scale) * float(factor), xq.qp.zero_point)
    if not _operand_scale(qp_scaled.scale):
        return None

    def run() -> torch.Tensor:
        batch = 1
        for d in batch_shape:
            batch *= int(d)
        k8, v8 = kr, vr
        if repeat > 1:
            k8, v8 = k8.repeat_interleave(repeat, -3), v8.repeat_interleave(repeat, -3)
        a3 = qr.reshape(batch, n_q, e).contiguous()
        s8 = _ffqrt.matmul(a3, qp_scaled, k8.reshape(batch, n_k, e).contiguous(), xk.qp, out=scores_how[1][0],
                           b_transposed=True)
        w8 = _ffqrt.softmax8(s8.reshape(batch * n_q, n_k), scores_how[1][0], weights_how[1][0])
        o = _ffqrt.matmul(w8.reshape(batch, n_q, n_k), weights_how[1][0], v8.reshape(batch, n_k, ev).contiguous(),
                          xv.qp, out=out_how[1][0] if out_how[0] == _REQUANT else None)
        return _finish(o.reshape(batch_shape + (n_q, ev)), out_how)

    return run


def _sdpa_plan(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Plan]:
    try:
        return _plan_sdpa(args, kwargs)
    except _ERRORS:
        return None


def _sdpa_predicate(*args: Any, **kwargs: Any) -> bool:
    return _sdpa_plan(args, kwargs) is not None


def _sdpa_try(*args: Any, **kwargs: Any) -> Any:
    """The integer attention's result, or MISS where its predicate would refuse."""
    plan = _sdpa_plan(args, kwargs)
    if plan is None:
        return MISS
    result = plan()
    _note("scaled_dot_product_attention", "integer")
    return result


def _sdpa_kernel(*args: Any, **kwargs: Any) -> Any:
    result = _sdpa_try(*args, **kwargs)
    if result is not MISS:
        return result
    _note("scaled_dot_product_attention", "simulated")
    from fastforward.nn import attention

    with _simulated():
        return attention.scaled_dot_product_attention(*args, **kwargs)


_sdpa_predicate.__name__ = "integer_scaled_dot_product_attention_applies"
_sdpa_kernel.__name__ = "integer_scaled_dot_product_attention"
_sdpa_kernel.try_call = _sdpa_try  # type: ignore[attr-defined]
dispatcher.register("scaled_dot_product_attention", _sdpa_predicate, _sdpa_kernel)
KERNELS["scaled_dot_product_attention"] = _sdpa_kernel

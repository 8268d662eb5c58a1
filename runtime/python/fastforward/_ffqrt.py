"""The only module that knows libffqrt's C ABI: loads the library with ctypes and wraps its
quantize / dequantize / fake-quantize entry points for float32 CPU tensors.

Library lookup order: ``$FFQRT_LIBRARY`` (``none`` disables the C path); ``<package>/_lib/libffqrt.so``; the Meson build
tree of a source checkout (``<repo>/build/runtime/libffqrt.so``). When none loads, every
caller falls back to torch ops; ``available()`` says which path is in use and the first
fallback emits one ``RuntimeWarning``.

Every wrapper checks devices, dtypes, contiguity, sizes and parameter values in Python
before the call, so no Python input reaches C in a form it could misread. Wrappers return
``None`` when the call cannot be expressed for C (the caller then uses torch ops); they
raise only for programming errors of the caller.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import warnings
import weakref
from typing import Any, Dict, Optional, Sequence, Tuple

import torch

__all__ = [
    "GRID_DTYPES",
    "available",
    "dequantize",
    "fake_quantize",
    "grid_for_tiles",
    "isa",
    "library_path",
    "quantize",
]

_OK = 0
_S8, _S4 = 0, 2
# num_bits -> ffqrt dtype of the signed grid [-2^(b-1), 2^(b-1) - 1].
GRID_DTYPES = {8: _S8, 4: _S4}
_QMIN = {_S8: -128, _S4: -8}
_QMAX = {_S8: 127, _S4: 7}
_ISA_NAMES = {0: "auto", 1: "ref", 2: "avx2", 3: "avx512vnni", 4: "avxvnni", 5: "amx"}


class _Grid(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("outer", "mid", "inner", "tile_outer", "tile_mid", "tile_inner")
    ]


_lock = threading.Lock()
_state: dict = {"loaded": False, "lib": None, "ctx": None, "path": None, "error": None}
_warned = [False]


def _candidates() -> list:
    here = os.path.dirname(os.path.abspath(__file__))
    paths = []
    env = os.environ.get("FFQRT_LIBRARY")
    if env == "none":  # the torch-ops path only (tests of the fallback)
        return []
    if env:
        paths.append(env)
    from fastforward import _paths

    found = _paths.libffqrt_path()  # packaged (wheel or editable install) or a checkout's build
    if found:
        paths.append(found)
    paths.append(os.path.join(here, "_lib", "libffqrt.so"))
    # Source checkout: <repo>/runtime/python/fastforward -> <repo>/build/runtime.
    repo = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    paths.append(os.path.join(repo, "build", "runtime", "libffqrt.so"))
    return paths


def _declare(lib: ctypes.CDLL) -> None:
    vp, grid = ctypes.c_void_p, ctypes.POINTER(_Grid)
    lib.ffqrt_ctx_new.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.ffqrt_ctx_new.restype = vp
    lib.ffqrt_ctx_free.argtypes = [vp]
    lib.ffqrt_ctx_free.restype = None
    lib.ffqrt_ctx_isa.argtypes = [vp]
    lib.ffqrt_ctx_isa.restype = ctypes.c_int
    lib.ffqrt_isa_name.argtypes = [ctypes.c_int]
    lib.ffqrt_isa_name.restype = ctypes.c_char_p
    lib.ffqrt_grid_params.argtypes = [grid]
    lib.ffqrt_grid_params.restype = ctypes.c_size_t
    lib.ffqrt_storage_bytes.argtypes = [ctypes.c_int, ctypes.c_size_t]
    lib.ffqrt_storage_bytes.restype = ctypes.c_size_t
    for name in ("ffqrt_quantize", "ffqrt_dequantize", "ffqrt_fake_quantize", "ffqrt_quantize_float"):
        fn = getattr(lib, name)
        fn.argtypes = [vp, vp, vp, grid, vp, vp, ctypes.c_int]
        fn.restype = ctypes.c_int
    lib.ffqrt_quantize_dequantize.argtypes = [vp, vp, vp, vp, grid, vp, vp, ctypes.c_int]
    lib.ffqrt_quantize_dequantize.restype = ctypes.c_int
    dual = getattr(lib, "ffqrt_quantize_dual", None)  # a library built before it: quantize, then widen
    if dual is not None:
        dual.argtypes = [vp, vp, vp, vp, grid, vp, vp, ctypes.c_int]
        dual.restype = ctypes.c_int
    _state["dual"] = dual


def _load() -> Optional[ctypes.CDLL]:
    if _state["loaded"]:
        return _state["lib"]
    with _lock:
        if _state["loaded"]:
            return _state["lib"]
        errors = []
        for path in _candidates():
            if not os.path.isfile(path):
                errors.append("%s: not found" % path)
                continue
            try:
                lib = ctypes.CDLL(path)
                _declare(lib)
                ctx = lib.ffqrt_ctx_new(0, 0)
            except (OSError, AttributeError) as exc:
                errors.append("%s: %s" % (path, exc))
                continue
            if not ctx:
                errors.append("%s: ffqrt_ctx_new failed" % path)
                continue
            _state.update(lib=lib, ctx=ctx, path=path)
            break
        else:
            _state["error"] = "; ".join(errors) or "FFQRT_LIBRARY=none"
        _state["loaded"] = True
    return _state["lib"]


def available() -> bool:
    """True when libffqrt was found and loaded; False means the torch-ops path is used."""
    return _load() is not None


def library_path() -> Optional[str]:
    """The path libffqrt was loaded from, or None."""
    _load()
    return _state["path"]


def isa() -> str:
    """Name of the kernel variant the C library runs on this CPU ('amx', 'avx512vnni',
    'avxvnni', 'avx2', 'ref'), or 'torch' when the library is not available."""
    lib = _load()
    if lib is None:
        return "torch"
    return lib.ffqrt_isa_name(lib.ffqrt_ctx_isa(_state["ctx"])).decode()


def _lib_or_warn() -> Optional[ctypes.CDLL]:
    lib = _load()
    if lib is None and not _warned[0]:
        _warned[0] = True
        warnings.warn(
            "fastforward: libffqrt not found (%s); quantization runs in torch ops. Set "
            "FFQRT_LIBRARY to the library's path to use the C kernels." % _state["error"],
            RuntimeWarning,
            stacklevel=3,
        )
    return lib


def grid_for_tiles(
    shape: Sequence[int], tile: Sequence[int]
) -> Optional[Tuple[int, int, int, int, int, int]]:
    """The (outer, mid, inner, tile_outer, tile_mid, tile_inner) grid equal to tiling a
    row-major tensor of ``shape`` with tiles of ``tile``, or None when three levels cannot
    express it. Tiles must divide the shape."""
    if len(shape) != len(tile):
        return None
    dims = [[int(s), int(t)] for s, t in zip(shape, tile) if int(s) != 1]
    if any(s <= 0 or t <= 0 or s % t for s, t in dims):
        return None
    merged: list = []
    for size, t in dims:
        if merged and t == size:
            # A whole dimension extends the previous dimension's tiles by itself.
            merged[-1][0] *= size
            merged[-1][1] *= size
        elif merged and t == 1 and merged[-1][1] == 1:
            merged[-1][0] *= size
        else:
            merged.append([size, t])
    if len(merged) > 3:
        return None
    while len(merged) < 3:
        merged.insert(0, [1, 1])
    (o, to), (m, tm), (i, ti) = merged
    return (o, m, i, 0 if to == o else to, 0 if tm == m else tm, 0 if ti == i else ti)


def _grid_params(grid: _Grid) -> int:
    n = getattr(grid, "n_tiles", None)  # set on the grids _make_grid keeps
    return int(_state["lib"].ffqrt_grid_params(ctypes.byref(grid))) if n is None else n


def _params_ok(
    grid: _Grid,
    n_params: int,
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    dtype: int,
) -> bool:
    if _grid_params(grid) != n_params:
        return False
    if not _plain(scale, torch.float32) or scale.numel() != n_params:
        return False
    if zero_point is not None and (not _plain(zero_point, torch.int32) or zero_point.numel() != n_params):
        return False
    if n_params == 1:  # the common per-tensor case, without torch ops
        s = scale.item()
        if not (s > 0.0 and s != float("inf")):
            return False
        return zero_point is None or _QMIN[dtype] <= zero_point.item() <= _QMAX[dtype]
    if not bool(torch.isfinite(scale).all()) or not bool((scale > 0).all()):
        return False
    if zero_point is not None:
        if bool((zero_point < _QMIN[dtype]).any()) or bool((zero_point > _QMAX[dtype]).any()):
            return False
    return True


_HAS_NEG = hasattr(torch.Tensor, "is_neg")
_HAS_CONJ = hasattr(torch.Tensor, "is_conj")


def _plain(t: torch.Tensor, dtype: torch.dtype) -> bool:
    """A dense, contiguous CPU tensor of ``dtype`` whose memory holds its values as is."""
    return (
        type(t) is torch.Tensor  # never a subclass: a QuantizedTensor's memory is its raw data
        and t.dtype == dtype
        and t.is_cpu
        and t.layout == torch.strided
        and t.is_contiguous()
        and not (_HAS_NEG and t.is_neg())
        and not (_HAS_CONJ and t.is_conj())
    )


# Fresh multi-megabyte outputs are written once, start to end: advising the kernel to back
# them with transparent huge pages (Linux, THP in "madvise" mode) removes most of the
# first-touch page faults, which otherwise cost more than the quantization itself.
_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14
_madvise: list = []


def _advise_huge(t: torch.Tensor) -> None:
    if not _madvise:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.madvise
            fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            fn.restype = ctypes.c_int
            _madvise.append(fn)
        except (OSError, AttributeError):
            _madvise.append(None)
    fn = _madvise[0]
    if fn is None:
        return
    start = t.data_ptr()
    end = start + t.numel() * t.element_size()
    lo = (start + _HUGE_PAGE - 1) // _HUGE_PAGE * _HUGE_PAGE
    hi = end // _HUGE_PAGE * _HUGE_PAGE
    if hi > lo:
        fn(lo, hi - lo, _MADV_HUGEPAGE)  # a hint: failure changes nothing


def _empty(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
    """A new CPU tensor (its pages advised as huge when it spans several of them)."""
    # (the sizes as arguments: torch parses them in half the time of a torch.Size, 1 us a call)
    t = torch.empty(*shape, dtype=dtype) if len(shape) else torch.empty(shape, dtype=dtype)
    if t.numel() * t.element_size() >= 4 * _HUGE_PAGE:
        _advise_huge(t)
    return t


def _empty_tracked(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
    """``_empty``, as an ordinary tensor even under ``torch.inference_mode``: the caches
    below remember a tensor by its version counter, which inference tensors lack."""
    if not torch.is_inference_mode_enabled():
        return _empty(shape, dtype)
    if _InferenceMode is None:
        with torch.inference_mode(False):
            return _empty(shape, dtype)
    # torch's C guard itself (the context manager around it costs ~1 us a call); released in
    # `finally`, so an exception's traceback cannot keep inference mode off
    guard = _InferenceMode(False)
    try:
        return _empty(shape, dtype)
    finally:
        del guard


_InferenceMode = getattr(torch._C, "_InferenceMode", None)


def float_of_codes(q8: torch.Tensor) -> torch.Tensor:
    """The int8 codes ``q8`` as float32 values in a new tensor laid out alike, an ordinary
    tensor even under ``torch.inference_mode`` (codes attached to it are kept by its version
    counter). For results whose quantizer asks for float32 storage."""
    if q8.is_contiguous():
        out = _empty_tracked(q8.shape, torch.float32)
    elif torch.is_inference_mode_enabled():
        with torch.inference_mode(False):
            out = torch.empty_like(q8, dtype=torch.float32)
    else:
        out = torch.empty_like(q8, dtype=torch.float32)
    torch.Tensor.copy_(out, q8)
    return out


class _Scratch(threading.local):
    work: Optional[torch.Tensor] = None  # this thread's workspace (see _workspace)
    ptr = 0  # its address and size in bytes
    size = 0


_scratch = _Scratch()
_SCRATCH_MAX = 64 << 20


# (shape, tile) -> the C grid (read-only; ``n_tiles`` its number of tiles), made once per
# geometry.
_grids: Dict[Tuple[Tuple[int, ...], Tuple[int, ...]], _Grid] = {}


def _make_grid(shape: Sequence[int], tile: Sequence[int]) -> Optional[_Grid]:
    key = (tuple(shape), tuple(tile))
    grid = _grids.get(key)
    if grid is None:
        g = grid_for_tiles(shape, tile)
        if g is None:
            return None
        grid = _Grid(*g)
        grid.n_tiles = int(_state["lib"].ffqrt_grid_params(ctypes.byref(grid)))
        if len(_grids) > 4096:
            _grids.clear()
        _grids[key] = grid
    return grid


def _ptr(t: Optional[torch.Tensor]) -> Optional[int]:
    return None if t is None else t.data_ptr()


def _nhwc(x: torch.Tensor, tile: Sequence[int]) -> Optional[Tuple[torch.Tensor, Tuple[int, ...]]]:
    """A channels_last (not contiguous) 4-D tensor as its NHWC view, and the tile permuted
    alike; None for other tensors. Elementwise kernels run on the view."""
    if x.dim() == 4 and len(tile) == 4 and not x.is_contiguous() and channels_last_dense(x):
        return x.permute(0, 2, 3, 1), (int(tile[0]), int(tile[2]), int(tile[3]), int(tile[1]))
    return None


def _nchw(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    return None if t is None else t.permute(0, 3, 1, 2)


def quantize(
    x: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    num_bits: int,
) -> Optional[torch.Tensor]:
    """Raw grid values of ``x`` as float32 (``clamp(round(x / s + zp), qmin, qmax)``, the
    rounding exact as ``ffqrt_qf`` does it, -0 as +0), or None when C cannot do this call.
    ``scale``: float32, one per tile;
    ``zero_point``: int32 or None (= 0). One pass (``ffqrt_quantize_float``)."""
    nhwc = _nhwc(x, tile) if isinstance(x, torch.Tensor) else None
    if nhwc is not None:
        return _nchw(quantize(nhwc[0], nhwc[1], scale, zero_point, num_bits))
    if num_bits not in GRID_DTYPES or not _plain(x, torch.float32) or x.numel() == 0:
        return None
    lib = _lib_or_warn()
    if lib is None:
        return None
    grid = _make_grid(x.shape, tile)
    dtype = GRID_DTYPES[num_bits]
    if grid is None or not _params_ok(grid, scale.numel(), scale, zero_point, dtype):
        return None
    # ordinary tensors under inference_mode too: the cached dequantized values and int8
    # copies are handed out only while the version counters say the tensors are unchanged
    out = _empty_tracked(x.shape, torch.float32)
    if dtype == _S8 and scale.numel() == 1 and want_dequantized[0]():
        # the simulated path dequantizes what it quantizes: both in one pass
        dq = _empty_tracked(x.shape, torch.float32)
        status = lib.ffqrt_quantize_dequantize(
            _pool_ctx(), out.data_ptr(), dq.data_ptr(), x.data_ptr(), ctypes.byref(grid),
            scale.data_ptr(), _ptr(zero_point), dtype,
        )
        if status != _OK:
            return None
        _mark_int8_grid(out)
        _keep_dequantized(out, dq, scale.item(), 0 if zero_point is None else int(zero_point.item()))
        return out
    if dtype == _S8:
        # the integer path reads these values as int8: C writes the int8 bytes and the same
        # values as float32 in one pass, and the bytes are kept for it
        q8 = _empty_tracked(x.shape, torch.int8)
        dual = _state.get("dual")
        if dual is not None:
            status = dual(_pool_ctx(), q8.data_ptr(), out.data_ptr(), x.data_ptr(), ctypes.byref(grid),
                          scale.data_ptr(), _ptr(zero_point), dtype)
        else:
            status = lib.ffqrt_quantize(
                _pool_ctx(), q8.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
                _ptr(zero_point), dtype,
            )
            if status == _OK:
                torch.Tensor.copy_(out, q8)
        if status != _OK:
            return None
        _mark_int8_grid(out, q8)
        return out
    status = lib.ffqrt_quantize_float(
        _pool_ctx(), out.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), dtype,
    )
    if status != _OK:
        return None
    return out


# Whether ``quantize`` also computes the dequantized values (fastforward._integer turns this
# off while the integer path, which reads the integers instead, is on).
want_dequantized = [lambda: True]
# data pointer of a raw tensor from ``quantize`` -> (weak reference to it, its version,
# numel, scale, zero point, the dequantized tensor, its version): handed out once.
_dequantized: dict = {}


def _keep_dequantized(raw: torch.Tensor, dq: torch.Tensor, scale: float, zero_point: int) -> None:
    key = raw.data_ptr()

    def forget(ref: Any, key: int = key) -> None:
        entry = _dequantized.get(key)
        if entry is not None and entry[0] is ref:
            del _dequantized[key]

    try:
        _dequantized[key] = (weakref.ref(raw, forget), raw._version, raw.numel(), scale, zero_point, dq,
                             dq._version)
    except RuntimeError:  # inference tensors have no version counter: not kept
        pass


def take_dequantized(raw: torch.Tensor, scale: float, zero_point: int) -> Optional[torch.Tensor]:
    """The dequantized values ``quantize`` computed along with ``raw`` (float32, per
    tensor, 8 bits), if ``raw`` is unchanged since and ``scale`` / ``zero_point`` are the
    ones used; each is handed out once (a second dequantization computes its own)."""
    if raw.dim() == 4 and not raw.is_contiguous() and channels_last_dense(raw):
        dq = take_dequantized(raw.permute(0, 2, 3, 1), scale, zero_point)
        return None if dq is None else dq.permute(0, 3, 1, 2)
    entry = _dequantized.get(raw.data_ptr())
    if entry is None:
        return None
    ref, version, numel, s, zp, dq, dq_version = entry
    owner = ref()
    try:
        ok = (owner is not None and raw.dtype == torch.float32 and raw.numel() == numel and raw.is_contiguous()
              and raw._version == version == owner._version and dq._version == dq_version
              and s == scale and zp == zero_point)
    except RuntimeError:
        return None
    if not ok:
        return None
    del _dequantized[raw.data_ptr()]
    return dq.view(raw.shape)


# Float32 tensors that ``quantize`` filled with 8-bit grid values, by data pointer: the
# integer path may convert them to int8 without checking every value again, as long as
# the tensor is alive and unchanged (same version counter value).
_grid8: dict = {}


def _mark_int8_grid(t: torch.Tensor, q8: Optional[torch.Tensor] = None) -> None:
    """Remember that ``t`` holds 8-bit grid values (and, with ``q8``, the same values as
    int8, which ``kept_int8`` hands to the integer path)."""
    key = t.data_ptr()

    def forget(ref: Any, key: int = key) -> None:
        entry = _grid8.get(key)
        if entry is not None and entry[0] is ref:
            del _grid8[key]

    try:
        version = t._version
        kept = None if q8 is None else (q8, q8._version)
    except RuntimeError:  # inference tensors have no version counter: not tracked
        return
    _grid8[key] = (weakref.ref(t, forget), version, t.numel(), kept)


def known_int8_grid(t: torch.Tensor) -> bool:
    """True when ``t`` (any alias) holds exactly what ``quantize`` wrote at 8 bits: float32
    integers in [-128, 127], unchanged since."""
    entry = _grid8.get(t.data_ptr())
    if entry is None or t.dtype != torch.float32 or not t.is_contiguous():
        return False
    ref, version, numel, _ = entry
    owner = ref()
    try:
        return owner is not None and t.numel() == numel and t._version == version == owner._version
    except RuntimeError:  # inference tensors have no version counter
        return False


def kept_int8(t: torch.Tensor) -> Optional[torch.Tensor]:
    """The int8 copy ``quantize`` made of the values of ``t`` (float32, contiguous, all of
    what it wrote, unchanged since, and the copy unchanged too), shaped as ``t``; or None.
    The copy is shared: read it, never write it."""
    if not known_int8_grid(t):
        return None
    kept = _grid8[t.data_ptr()][3]
    if kept is None:
        return None
    q8, q8_version = kept
    try:
        if q8._version != q8_version:
            return None
    except RuntimeError:
        return None
    return q8.view(t.shape)


def quantize_int8(
    x: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
) -> Optional[torch.Tensor]:
    """8-bit raw grid values of ``x`` stored as int8, or None when C cannot do this call."""
    nhwc = _nhwc(x, tile) if isinstance(x, torch.Tensor) else None
    if nhwc is not None:
        return _nchw(quantize_int8(nhwc[0], nhwc[1], scale, zero_point))
    if not _plain(x, torch.float32) or x.numel() == 0:
        return None
    lib = _lib_or_warn()
    if lib is None:
        return None
    grid = _make_grid(x.shape, tile)
    if grid is None or not _params_ok(grid, scale.numel(), scale, zero_point, _S8):
        return None
    q = _empty(x.shape, torch.int8)
    status = lib.ffqrt_quantize(
        _pool_ctx(), q.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), _S8,
    )
    return q if status == _OK else None


class FloatWatch:
    """The current value of a one-element float32 CPU tensor, read through its address
    (cheaper than ``item()``). Caches compare values, not version counters: writes through
    ``.data`` leave the version counter as it was."""

    __slots__ = ("tensor", "ptr", "view")

    def __init__(self, t: torch.Tensor) -> None:
        if not (isinstance(t, torch.Tensor) and t.dtype == torch.float32 and t.is_cpu and t.numel() == 1
                and t.layout == torch.strided):
            raise ValueError("FloatWatch: a one-element float32 CPU tensor, got %r" % (t,))
        self.tensor, self.ptr = t, t.data_ptr()
        self.view = ctypes.c_float.from_address(self.ptr)

    def read(self) -> Optional[float]:
        """The value now, or None when the tensor's memory moved (``.data`` replaced)."""
        return self.view.value if self.tensor.data_ptr() == self.ptr else None


# numel -> the per-tensor grid of a flat tensor of that many elements (read-only).
_flat_grids: Dict[int, _Grid] = {}


def quantize8_per_tensor(
    x: torch.Tensor,
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    want_float: bool = True,
) -> Optional[Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]]:
    """Per-tensor 8-bit quantization of a plain contiguous float32 tensor ``x`` (the fast
    path of a static 8-bit quantizer): ``(raw, q8)`` with ``raw`` the grid values as
    float32 (None unless ``want_float``) and ``q8`` the same values as int8 (None when the
    dequantized values are wanted instead: then ``raw`` is made as ``quantize`` makes it,
    with its dequantized values kept for the simulated path). ``scale``: one float32 entry;
    ``zero_point``: one int32 entry or None (= 0); their values are checked in C. None when
    C cannot do this call. Same values as ``quantize`` / ``quantize_int8``, in one pass."""
    ready = _per_tensor_ready(x, torch.float32, scale, zero_point)
    if ready is None:
        return None
    lib, grid, n = ready
    if want_float and want_dequantized[0]():
        raw = quantize(x.reshape(n), (n,), scale, zero_point, 8)
        return None if raw is None else (raw.view(x.shape), None)
    shape = x.shape
    # ordinary tensors even under inference_mode: the codes attached to the result and
    # _mark_int8_grid keep them by their version counters
    q8 = _empty_tracked(shape, torch.int8)
    dual = _state.get("dual")
    if want_float and dual is not None:
        raw = _empty_tracked(shape, torch.float32)
        status = dual(_pool_ctx(), q8.data_ptr(), raw.data_ptr(), x.data_ptr(), ctypes.byref(grid),
                      scale.data_ptr(), _ptr(zero_point), _S8)
        if status != _OK:
            return None
        _mark_int8_grid(raw, q8)
        return raw, q8
    status = lib.ffqrt_quantize(_pool_ctx(), q8.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
                                _ptr(zero_point), _S8)
    if status != _OK:
        return None
    if not want_float:
        return None, q8
    raw = _empty_tracked(shape, torch.float32)
    torch.Tensor.copy_(raw, q8)
    _mark_int8_grid(raw, q8)
    return raw, q8


def _per_tensor_ready(t: torch.Tensor, dtype: torch.dtype, scale: torch.Tensor,
                      zero_point: Optional[torch.Tensor]) -> Optional[Tuple[Any, _Grid, int]]:
    """(library, flat grid, element count) for a one-tile call on the plain contiguous
    ``dtype`` tensor ``t`` with one float32 scale and one int32 zero point (or None), or
    None when C cannot take it (the parameters' values are checked in C)."""
    if not _plain(t, dtype) or not _plain(scale, torch.float32) or scale.numel() != 1:
        return None
    if zero_point is not None and (not _plain(zero_point, torch.int32) or zero_point.numel() != 1):
        return None
    n = t.numel()
    lib = _state["lib"] if _state["loaded"] else _lib_or_warn()
    if lib is None or n == 0:
        return None
    grid = _flat_grid(n)
    return None if grid is None else (lib, grid, n)


def _flat_grid(n: int) -> Optional[_Grid]:
    """The per-tensor grid of a flat tensor of ``n`` elements (made once per ``n``)."""
    grid = _flat_grids.get(n)
    if grid is None:
        grid = _make_grid((n,), (n,))
        if grid is None:
            return None
        if len(_flat_grids) > 4096:
            _flat_grids.clear()
        _flat_grids[n] = grid
    return grid


def dequantize8_per_tensor(
    q8: torch.Tensor,
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
) -> Optional[torch.Tensor]:
    """``(q8 - zp) * s`` as float32 for a plain contiguous int8 tensor ``q8`` (same shape):
    ``dequantize`` of one tile, the same C call and values, for the int8 codes the integer
    path attaches to its tensors. ``scale``: one float32 entry; ``zero_point``: one int32
    entry or None (= 0); their values are checked in C. None when C cannot do this call."""
    ready = _per_tensor_ready(q8, torch.int8, scale, zero_point)
    if ready is None:
        return None
    lib, grid, _ = ready
    out = _empty(q8.shape, torch.float32)
    status = lib.ffqrt_dequantize(_pool_ctx(), out.data_ptr(), q8.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
                                  _ptr(zero_point), _S8)
    return out if status == _OK else None


def dequantize(
    raw: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    num_bits: int,
) -> Optional[torch.Tensor]:
    """``(raw - zp) * s`` as float32 for int8 ``raw`` holding ``num_bits``=8 values, or None
    when C cannot do this call."""
    nhwc = _nhwc(raw, tile) if isinstance(raw, torch.Tensor) else None
    if nhwc is not None:
        return _nchw(dequantize(nhwc[0], nhwc[1], scale, zero_point, num_bits))
    if num_bits != 8 or not _plain(raw, torch.int8) or raw.numel() == 0:
        return None
    lib = _lib_or_warn()
    if lib is None:
        return None
    grid = _make_grid(raw.shape, tile)
    if grid is None or not _params_ok(grid, scale.numel(), scale, zero_point, _S8):
        return None
    out = _empty(raw.shape, torch.float32)
    status = lib.ffqrt_dequantize(
        _pool_ctx(), out.data_ptr(), raw.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), _S8,
    )
    return out if status == _OK else None


def fake_quantize(
    x: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    num_bits: int,
) -> Optional[torch.Tensor]:
    """``dequantize(quantize(x))`` as float32, or None when C cannot do this call."""
    if num_bits not in GRID_DTYPES or not _plain(x, torch.float32) or x.numel() == 0:
        return None
    lib = _lib_or_warn()
    if lib is None:
        return None
    grid = _make_grid(x.shape, tile)
    dtype = GRID_DTYPES[num_bits]
    if grid is None or not _params_ok(grid, scale.numel(), scale, zero_point, dtype):
        return None
    out = _empty(x.shape, torch.float32)
    status = lib.ffqrt_fake_quantize(
        _pool_ctx(), out.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), dtype,
    )
    return out if status == _OK else None


# --- integer kernels: GEMM, conv, matmul, elementwise (fastforward._integer uses these) ------
#
# Each wrapper takes dense CPU tensors of the exact dtype and shape it documents and checks
# all of it again here (dtype, device, contiguity, element counts against the sizes passed to
# C, parameter values), because C cannot check buffer lengths. A failed check raises
# ValueError naming what was wrong; a call C rejects anyway (FFQRT_EINVAL) raises too.
# ``None`` is returned only when the library is not available.

__all__ += [
    "QParam",
    "add",
    "conv2d",
    "conv2d_pack",
    "integer_context",
    "linear",
    "linear_dynamic",
    "linear_pack",
    "linear_pack_dims",
    "lut8",
    "lut_f32",
    "matmul",
    "mul",
]

_U8 = 1
_INT8_RANGE = {_S8: (-128, 127), _U8: (0, 255)}
_TORCH_INT8 = {torch.int8: _S8, torch.uint8: _U8}
LINEAR_MAX_K = 65536
MATMUL_MAX_K = 32768


class _QParam(ctypes.Structure):
    _fields_ = [("scale", ctypes.c_float), ("zero_point", ctypes.c_int32), ("dtype", ctypes.c_int32)]


class _ConvShape(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("n", "c_in", "h", "w", "c_out", "kh", "kw", "stride_h", "stride_w",
                     "pad_h", "pad_w", "dil_h", "dil_w", "groups", "layout")
    ]


# _ConvShape.layout bits (ffqrt.h): input / output in NHWC (torch's channels_last) order.
CONV_IN_NHWC, CONV_OUT_NHWC = 1, 2


class _PoolShape(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("n", "c", "h", "w", "kh", "kw", "sh", "sw", "ph", "pw",
                                                     "dh", "dw", "oh", "ow")] + [
        ("elem", ctypes.c_int), ("layout", ctypes.c_int), ("divisor", ctypes.c_size_t),
        ("count_include_pad", ctypes.c_int)]


# ffqrt_pool2d_shape.elem of each dtype (ffqrt.h)
_POOL_ELEM = {torch.float32: 0, torch.int8: 1, torch.uint8: 2}


class QParam:
    """Per-tensor parameters of an int8 operand: ``scale`` (a finite float32 > 0) and
    ``zero_point`` (an int in the storage dtype's range); ``dtype`` is torch.int8 or
    torch.uint8."""

    __slots__ = ("scale", "zero_point", "dtype", "_c", "_scale_t")

    def __init__(self, scale: float, zero_point: int, dtype: torch.dtype = torch.int8) -> None:
        if dtype not in _TORCH_INT8:
            raise ValueError("QParam: dtype must be torch.int8 or torch.uint8, got %s" % dtype)
        code = _TORCH_INT8[dtype]
        f32 = ctypes.c_float(float(scale)).value  # rounded to float32 (inf past its range)
        if not (f32 > 0.0 and f32 != float("inf")):  # also false for NaN
            raise ValueError("QParam: scale must be finite and > 0 in float32, got %r" % (scale,))
        zp = int(zero_point)
        lo, hi = _INT8_RANGE[code]
        if zp != zero_point or not lo <= zp <= hi:
            raise ValueError("QParam: zero point %r outside [%d, %d] of %s" % (zero_point, lo, hi, dtype))
        self.scale, self.zero_point, self.dtype = f32, zp, dtype
        self._c = _QParam(f32, zp, code)
        self._scale_t: Optional[torch.Tensor] = None

    def scale_tensor(self) -> torch.Tensor:
        """``scale`` as a one-element float32 tensor for C (made once, and again if written:
        an ordinary tensor even under inference_mode, so its version counter tells)."""
        t = self._scale_t
        if t is None or t._version != 0:
            with torch.inference_mode(False):
                t = torch.tensor([self.scale], dtype=torch.float32)
            self._scale_t = t
        return t

    def __repr__(self) -> str:
        return "QParam(scale=%r, zero_point=%d, dtype=%s)" % (self.scale, self.zero_point, self.dtype)


def _declare_integer(lib: ctypes.CDLL) -> None:
    vp, sz, i32, qp = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.POINTER(_QParam)
    cs = ctypes.POINTER(_ConvShape)
    table = {
        "ffqrt_ctx_threads": ([vp], i32),
        "ffqrt_ctx_use_openmp": ([vp, ctypes.c_char_p], i32),
        "ffqrt_ctx_uses_openmp": ([vp], i32),
        "ffqrt_linear_pack_size": ([sz, sz], sz),
        "ffqrt_linear_pack": ([vp, vp, vp, sz, sz], i32),
        "ffqrt_linear_pack_dims": ([vp, ctypes.POINTER(sz), ctypes.POINTER(sz)], i32),
        "ffqrt_linear_f32": ([vp, vp, vp, qp, vp, vp, sz], i32),
        "ffqrt_linear_q": ([vp, vp, qp, i32, vp, qp, vp, vp, sz], i32),
        "ffqrt_linear_dynamic_workspace_size": ([sz, sz], sz),
        "ffqrt_linear_static": ([vp, vp, qp, i32, vp, qp, vp, vp, sz, vp], i32),
        "ffqrt_linear_dynamic": ([vp, vp, vp, vp, vp, sz, vp], i32),
        "ffqrt_matmul_batch_workspace_size": ([sz, sz, sz, sz], sz),
        "ffqrt_matmul_batch": ([vp, vp, qp, i32, vp, qp, vp, qp, sz, sz, sz, sz, ctypes.c_uint, vp], i32),
        "ffqrt_conv2d_out_h": ([cs], sz),
        "ffqrt_conv2d_out_w": ([cs], sz),
        "ffqrt_conv2d_pack_size": ([cs], sz),
        "ffqrt_conv2d_pack": ([vp, vp, vp, cs], i32),
        "ffqrt_conv2d_workspace_size": ([cs], sz),
        "ffqrt_conv2d_f32": ([vp, vp, vp, qp, vp, vp, cs, vp], i32),
        "ffqrt_conv2d_static_workspace_size": ([cs], sz),
        "ffqrt_conv2d_static": ([vp, vp, qp, i32, vp, qp, vp, vp, cs, vp], i32),
        "ffqrt_conv2d_q": ([vp, vp, qp, i32, vp, qp, vp, vp, cs, vp], i32),
        "ffqrt_add": ([vp, vp, qp, i32, vp, qp, vp, qp, sz], i32),
        "ffqrt_mul": ([vp, vp, qp, i32, vp, qp, vp, qp, sz], i32),
        "ffqrt_lut8": ([vp, vp, vp, vp, sz], i32),
        "ffqrt_lut_f32": ([vp, vp, vp, vp, sz], i32),
        "ffqrt_lut_f32_channels": ([vp, vp, vp, vp, sz, sz, sz], i32),
        "ffqrt_lut8_planes": ([vp, vp, vp, vp, vp, sz, sz], i32),
        "ffqrt_lut8_channels": ([vp, vp, vp, vp, sz, sz, sz], i32),
        "ffqrt_affine_f32_channels": ([vp, vp, vp, qp, vp, vp, sz, sz, sz], i32),
        "ffqrt_act_f32": ([vp, vp, vp, sz, i32], i32),
        "ffqrt_layer_norm8": ([vp, vp, qp, vp, qp, vp, vp, ctypes.c_float, sz, sz], i32),
        "ffqrt_softmax8": ([vp, vp, qp, vp, qp, sz, sz], i32),
        "ffqrt_nhwc_to_nchw8": ([vp, vp, vp, sz, sz, sz], i32),
        "ffqrt_max_pool2d": ([vp, vp, vp, ctypes.POINTER(_PoolShape)], i32),
        "ffqrt_avg_pool2d": ([vp, vp, vp, ctypes.POINTER(_PoolShape)], i32),
    }
    for name, (argtypes, restype) in table.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype


_contexts: dict = {}
_integer_declared = [False]


def _integer_lib() -> Optional[ctypes.CDLL]:
    lib = _lib_or_warn()
    if lib is None:
        return None
    if not _integer_declared[0]:
        with _lock:
            if not _integer_declared[0]:
                _declare_integer(lib)
                _integer_declared[0] = True
    return lib


def _pool_ctx() -> Any:
    """The context quantize / dequantize run in: as many threads as torch uses (like the
    integer kernels), falling back to the library's default context."""
    ctx = integer_context()
    return ctx if ctx is not None else _state["ctx"]


def integer_context(threads: Optional[int] = None) -> Optional[int]:
    """The libffqrt context whose pool has ``threads`` threads (default:
    ``torch.get_num_threads()``), created on first use and kept for the process; None when
    the library is not available."""
    if threads is None and _state["lib"] is not None:
        ctx = _contexts.get(torch.get_num_threads())  # the common case: made already
        if ctx is not None:
            return ctx
    lib = _integer_lib()
    if lib is None:
        return None
    n = torch.get_num_threads() if threads is None else int(threads)
    n = max(1, min(n, 256))
    ctx = _contexts.get(n)
    if ctx is None:
        with _lock:
            ctx = _contexts.get(n)
            if ctx is None:
                ctx = lib.ffqrt_ctx_new(0, n)
                if not ctx:
                    raise RuntimeError("libffqrt: ffqrt_ctx_new(auto, %d) failed" % n)
                omp = torch_openmp_runtime()
                if omp is not None:
                    lib.ffqrt_ctx_use_openmp(ctx, omp.encode())
                _contexts[n] = ctx
    return ctx


_openmp: list = []


def torch_openmp_runtime() -> Optional[str]:
    """The path of the OpenMP runtime torch runs its parallel regions on, as loaded in this
    process, or None: when torch's parallel backend is not OpenMP, when the runtime cannot
    be found (only Linux's /proc/self/maps is read), or when FFQRT_OPENMP=0.

    Contexts run their work on that runtime's threads (``ffqrt_ctx_use_openmp``): they spin
    for a while after each torch operation, and work handed to threads of our own would
    compete with them for the cores (measured: a linear right after a torch op took twice
    as long)."""
    if _openmp:
        return _openmp[0]
    found = None
    if os.environ.get("FFQRT_OPENMP", "1") != "0" and \
            "parallel backend: OpenMP" in torch.__config__.parallel_info():
        torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
        names = ("libgomp", "libiomp5", "libomp")
        try:
            with open("/proc/self/maps") as maps:
                fields = [line.split(None, 5) for line in maps]
        except OSError:
            fields = []
        paths = {f[5].strip() for f in fields if len(f) == 6}
        loaded = sorted(p for p in paths if os.path.basename(p).startswith(names))
        # torch's own copy first (a wheel bundles one); else the one it linked from the system
        ours = [p for p in loaded if p.startswith(torch_dir + os.sep)]
        found = (ours or loaded or [None])[0]
    _openmp.append(found)
    return found


def context_threads(threads: Optional[int] = None) -> int:
    """The pool size of ``integer_context(threads)`` (0 without the library)."""
    ctx = integer_context(threads)
    return 0 if ctx is None else int(_state["lib"].ffqrt_ctx_threads(ctx))


def _need(t: Any, what: str, dtypes: Sequence[torch.dtype], numel: int) -> None:
    if not isinstance(t, torch.Tensor):
        raise ValueError("%s: expected a tensor, got %s" % (what, type(t).__name__))
    if t.dtype not in dtypes:
        raise ValueError("%s: dtype %s, expected %s" % (what, t.dtype, " or ".join(map(str, dtypes))))
    if not _plain(t, t.dtype):
        raise ValueError("%s: must be a dense contiguous plain CPU tensor" % what)
    if t.numel() != numel:
        raise ValueError("%s: %d elements, expected %d" % (what, t.numel(), numel))


def _need_qparam(p: Any, what: str, t: Optional[torch.Tensor] = None) -> "QParam":
    if not isinstance(p, QParam):
        raise ValueError("%s: expected a QParam, got %s" % (what, type(p).__name__))
    if t is not None and t.dtype != p.dtype:
        raise ValueError("%s: tensor dtype %s but parameters for %s" % (what, t.dtype, p.dtype))
    return p


def _sizes(*values: Any) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError("libffqrt: size %r is not a non-negative int" % (v,))


def _check(status: int, what: str) -> None:
    if status != _OK:
        raise ValueError("libffqrt: %s rejected its arguments (status %d)" % (what, status))


def _workspace(n: int) -> torch.Tensor:
    # A per-thread buffer (kept up to 64 MB): a workspace is live during the call only,
    # and never aliases another buffer of the same call.
    buf = _scratch.work
    if buf is None or buf.numel() < n:
        buf = _empty((max(n, 1 << 20),), torch.uint8)
        if n <= _SCRATCH_MAX:
            _scratch.work, _scratch.ptr, _scratch.size = buf, buf.data_ptr(), buf.numel()
    return buf[:max(n, 1)]


def _workspace_ptr(n: int) -> int:
    """The address of a workspace of ``n`` bytes, as ``_workspace`` gives it (for callers
    that need no tensor of it: the thread's buffer is not sliced then). Only the
    thread's kept buffer: n must not exceed _SCRATCH_MAX."""
    scratch = _scratch
    if scratch.size < n:
        _workspace(n)
    return scratch.ptr


def _call_workspace(n: int) -> Tuple[Optional[torch.Tensor], int]:
    """A workspace of ``n`` bytes for one C call: (the tensor to keep alive for the call, or
    None for the thread's kept buffer; its address)."""
    if n <= _SCRATCH_MAX:
        return None, _workspace_ptr(n)
    work = _workspace(n)
    return work, work.data_ptr()


def linear_pack(w: torch.Tensor, w_scale: torch.Tensor) -> Optional[torch.Tensor]:
    """Pack int8 weights ``w`` [n, k] (symmetric, one float32 scale per row in ``w_scale``)
    for ``linear``; the result is a uint8 tensor."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(w, torch.Tensor) or w.dim() != 2:
        raise ValueError("linear_pack: weights must be a 2-D tensor")
    n, k = int(w.shape[0]), int(w.shape[1])
    if k > LINEAR_MAX_K:
        raise ValueError("linear_pack: K = %d exceeds %d" % (k, LINEAR_MAX_K))
    _need(w, "linear_pack weights", (torch.int8,), n * k)
    _need(w_scale, "linear_pack scales", (torch.float32,), n)
    if n and not bool((torch.isfinite(w_scale) & (w_scale > 0)).all()):
        raise ValueError("linear_pack: weight scales must be finite and > 0")
    packed = _empty_tracked((int(lib.ffqrt_linear_pack_size(n, k)),), torch.uint8)  # (checked once: _pack_nk)
    _check(lib.ffqrt_linear_pack(packed.data_ptr(), w.data_ptr(), w_scale.data_ptr(), n, k), "linear_pack")
    return packed


def linear_pack_dims(packed: torch.Tensor) -> Optional[Tuple[int, int]]:
    """(n, k) of a linear pack, or None when ``packed`` is not one."""
    lib = _integer_lib()
    if lib is None or not _plain(packed, torch.uint8) or packed.numel() < 64:
        return None
    n, k = ctypes.c_size_t(), ctypes.c_size_t()
    if lib.ffqrt_linear_pack_dims(packed.data_ptr(), ctypes.byref(n), ctypes.byref(k)) != _OK:
        return None
    return int(n.value), int(k.value)


def _pack_nk(packed: torch.Tensor, what: str) -> Tuple[int, int]:
    # A pack checked before and not written since (same buffer, length and version) is
    # not read again through ctypes: packs are checked once per call site otherwise.
    key = packed.data_ptr() if isinstance(packed, torch.Tensor) else None
    seen = _packs_seen.get(key)
    if seen is not None and seen[0]() is packed and _plain(packed, torch.uint8):
        try:
            if packed._version == seen[1] and packed.numel() == seen[2]:
                return seen[3]
        except RuntimeError:
            pass
    dims = linear_pack_dims(packed)
    if dims is None:
        raise ValueError("%s: not a linear pack" % what)
    lib = _state["lib"]
    if packed.numel() < lib.ffqrt_linear_pack_size(dims[0], dims[1]):
        raise ValueError("%s: packed buffer too short" % what)
    try:
        if len(_packs_seen) > 4096:
            _packs_seen.clear()
        _packs_seen[key] = (weakref.ref(packed), packed._version, packed.numel(), dims)
    except RuntimeError:
        pass
    return dims


_packs_seen: dict = {}


def linear(a: torch.Tensor, pa: QParam, packed: torch.Tensor, bias: Optional[torch.Tensor],
           out: Optional[QParam] = None, relu: bool = False,
           threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """int8 linear layer: ``a`` [m, k] (int8 or uint8, per-tensor ``pa``) times a pack from
    ``linear_pack``; float32 [m, n] output (plus ``bias``), or with ``out`` the output
    requantized onto ``out``'s grid (``relu``: clamped at its zero point)."""
    lib = _integer_lib()
    if lib is None:
        return None
    n, k = _pack_nk(packed, "linear")
    if not isinstance(a, torch.Tensor) or a.dim() != 2 or int(a.shape[1]) != k:
        raise ValueError("linear: activations must be [m, %d], got %s" % (k, tuple(getattr(a, "shape", ()))))
    m = int(a.shape[0])
    _need(a, "linear activations", tuple(_TORCH_INT8), m * k)
    _need_qparam(pa, "linear activations", a)
    if bias is not None:
        _need(bias, "linear bias", (torch.float32,), n)
    ctx = integer_context(threads)
    if out is None:
        y = _empty((m, n), torch.float32)
        _check(lib.ffqrt_linear_f32(ctx, y.data_ptr(), a.data_ptr(), ctypes.byref(pa._c),
                                    packed.data_ptr(), _ptr(bias), m), "linear_f32")
        return y
    _need_qparam(out, "linear output")
    y = _empty((m, n), out.dtype)
    _check(lib.ffqrt_linear_q(ctx, y.data_ptr(), ctypes.byref(out._c), int(bool(relu)), a.data_ptr(),
                              ctypes.byref(pa._c), packed.data_ptr(), _ptr(bias), m), "linear_q")
    return y


def linear_static(x: torch.Tensor, pa: QParam, packed: torch.Tensor, bias: Optional[torch.Tensor],
                  out: Optional[QParam] = None, relu: bool = False,
                  threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``linear`` of float32 ``x`` [m, k] quantized onto the per-tensor 8-bit grid ``pa``
    inside the same C call (the codes go to a scratch buffer, never to Python): the values
    of ``quantize_int8`` followed by ``linear``, with one call and no codes tensor."""
    if _integer_lib() is None:
        return None
    return StaticLinearCall(pa, packed, bias, out, relu, name="linear_static")(x, threads)


class StaticLinearCall:
    """``linear_static`` with everything but the input checked once: the grid ``pa``, the
    pack, the bias and the output grid (or float output). A layer's call plan keeps one;
    each call checks only its input (float32, dense, [m, k]) and passes it to C."""

    __slots__ = ("fn", "name", "packed", "bias", "out", "pa", "relu", "n", "k", "y_dtype", "py", "pa_ptr",
                 "packed_ptr", "bias_ptr")

    def __init__(self, pa: QParam, packed: torch.Tensor, bias: Optional[torch.Tensor],
                 out: Optional[QParam] = None, relu: bool = False, name: str = "StaticLinearCall") -> None:
        lib = _integer_lib()
        if lib is None:
            raise RuntimeError("%s: libffqrt is not loaded" % name)
        self.name = name
        self.n, self.k = _pack_nk(packed, name)
        _need_qparam(pa, name + " input grid")
        if bias is not None:
            _need(bias, name + " bias", (torch.float32,), self.n)
        if out is not None:
            _need_qparam(out, name + " output")
        self.fn = lib.ffqrt_linear_static
        self.packed, self.bias, self.out, self.pa = packed, bias, out, pa  # kept alive with their memory
        self.relu = int(bool(relu))
        self.y_dtype = torch.float32 if out is None else out.dtype
        self.py = None if out is None else ctypes.pointer(out._c)
        self.pa_ptr = ctypes.pointer(pa._c)
        self.packed_ptr, self.bias_ptr = packed.data_ptr(), _ptr(bias)

    def __call__(self, x: torch.Tensor, threads: Optional[int] = None) -> torch.Tensor:
        k = self.k
        if not _plain(x, torch.float32) or x.dim() != 2 or int(x.shape[1]) != k:
            raise ValueError("%s: input must be a dense float32 [m, %d] CPU tensor, got %s"
                             % (self.name, k, tuple(getattr(x, "shape", ()))))
        return self._run(x, int(x.shape[0]), (int(x.shape[0]), self.n), threads)

    def rows(self, x: torch.Tensor, out_shape: Tuple[int, ...]) -> torch.Tensor:
        """The call for an input its caller has checked already: float32, CPU, dense, rows of
        k, not empty (``_layer_plan._dense_rows``); the result gets ``out_shape`` (x's
        leading dimensions, then n). A layer's plan calls this on every forward; codes past the
        thread's kept workspace go through the checked call."""
        m = x.numel() // self.k
        if m * self.k > _SCRATCH_MAX:
            return self(x.view(m, self.k)).view(out_shape)
        return self._run(x, m, out_shape, None)

    def _run(self, x: torch.Tensor, m: int, out_shape: Any, threads: Optional[int]) -> torch.Tensor:
        y = _empty(out_shape, self.y_dtype)
        work, work_ptr = _call_workspace(m * self.k)  # work: kept alive for the call
        _check(self.fn(integer_context(threads), y.data_ptr(), self.py, self.relu, x.data_ptr(), self.pa_ptr,
                       self.packed_ptr, self.bias_ptr, m, work_ptr), self.name)
        return y


def linear_dynamic(x: torch.Tensor, packed: torch.Tensor, bias: Optional[torch.Tensor],
                   threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """float32 ``x`` [m, k] quantized per call (per tensor, 7-bit u8 from its min/max), int8
    GEMM with the pack, float32 [m, n] output plus ``bias``."""
    lib = _integer_lib()
    if lib is None:
        return None
    n, k = _pack_nk(packed, "linear_dynamic")
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or int(x.shape[1]) != k:
        raise ValueError("linear_dynamic: input must be [m, %d]" % k)
    m = int(x.shape[0])
    _need(x, "linear_dynamic input", (torch.float32,), m * k)
    if bias is not None:
        _need(bias, "linear_dynamic bias", (torch.float32,), n)
    work = _workspace(int(lib.ffqrt_linear_dynamic_workspace_size(m, k)))
    y = _empty((m, n), torch.float32)
    _check(lib.ffqrt_linear_dynamic(integer_context(threads), y.data_ptr(), x.data_ptr(),
                                    packed.data_ptr(), _ptr(bias), m, work.data_ptr()), "linear_dynamic")
    return y


class DynamicLinearCall:
    """``linear_dynamic`` with the pack and bias checked once, for a layer's call plan: each
    call passes an input its caller has checked (float32, CPU, dense, rows of k, not empty:
    ``_layer_plan._dense_rows``) to C, which quantizes it per call onto a 7-bit grid from its
    min/max; the result is float32."""

    __slots__ = ("fn", "packed", "bias", "n", "k", "packed_ptr", "bias_ptr")

    def __init__(self, packed: torch.Tensor, bias: Optional[torch.Tensor]) -> None:
        lib = _integer_lib()
        if lib is None:
            raise RuntimeError("DynamicLinearCall: libffqrt is not loaded")
        self.n, self.k = _pack_nk(packed, "DynamicLinearCall")
        if bias is not None:
            _need(bias, "DynamicLinearCall bias", (torch.float32,), self.n)
        self.fn = lib.ffqrt_linear_dynamic
        self.packed, self.bias = packed, bias  # kept alive with their memory
        self.packed_ptr, self.bias_ptr = packed.data_ptr(), _ptr(bias)

    def rows(self, x: torch.Tensor, out_shape: Tuple[int, ...]) -> torch.Tensor:
        """``x``'s rows through the layer; the result gets ``out_shape`` (x's leading
        dimensions, then n)."""
        m = x.numel() // self.k
        # the workspace: ffqrt_linear_dynamic_workspace_size(m, k); work kept alive for the call
        work, work_ptr = _call_workspace(m * self.k)
        y = _empty(out_shape, torch.float32)
        _check(self.fn(integer_context(), y.data_ptr(), x.data_ptr(), self.packed_ptr, self.bias_ptr, m, work_ptr),
               "DynamicLinearCall")
        return y


def matmul(a: torch.Tensor, pa: QParam, b: torch.Tensor, pb: QParam, out: Optional[QParam] = None,
           relu: bool = False, threads: Optional[int] = None, b_transposed: bool = False) -> Optional[torch.Tensor]:
    """Batched int8 matmul ``a`` [batch, m, k] @ ``b`` [batch, k, n], both per tensor;
    float32 output or, with ``out``, requantized. ``b_transposed``: ``b`` is given as
    [batch, n, k] (its transpose, as attention's ``q @ k^T`` has the key)."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.dim() != 3 or b.dim() != 3:
        raise ValueError("matmul: operands must be 3-D tensors [batch, m, k] and [batch, %s]"
                         % ("n, k" if b_transposed else "k, n"))
    batch, m, k = (int(d) for d in a.shape)
    bk, n = (int(b.shape[2]), int(b.shape[1])) if b_transposed else (int(b.shape[1]), int(b.shape[2]))
    if int(b.shape[0]) != batch or bk != k:
        raise ValueError("matmul: shapes %s and %s%s do not match"
                         % (tuple(a.shape), tuple(b.shape), " (transposed)" if b_transposed else ""))
    if k > MATMUL_MAX_K:
        raise ValueError("matmul: K = %d exceeds %d" % (k, MATMUL_MAX_K))
    _need(a, "matmul lhs", tuple(_TORCH_INT8), batch * m * k)
    _need(b, "matmul rhs", tuple(_TORCH_INT8), batch * k * n)
    _need_qparam(pa, "matmul lhs", a)
    _need_qparam(pb, "matmul rhs", b)
    if out is not None:
        _need_qparam(out, "matmul output")
    keep, work = _call_workspace(int(lib.ffqrt_matmul_batch_workspace_size(batch, m, k, n)))
    y = _empty((batch, m, n), torch.float32 if out is None else out.dtype)
    _check(lib.ffqrt_matmul_batch(integer_context(threads), y.data_ptr(), None if out is None else ctypes.byref(out._c),
                                  int(bool(relu)), a.data_ptr(), ctypes.byref(pa._c), b.data_ptr(),
                                  ctypes.byref(pb._c), batch, m, k, n, 1 if b_transposed else 0, work),
           "matmul_batch")
    del keep
    return y


def conv2d_shape(n: int, c_in: int, h: int, w: int, c_out: int, kh: int, kw: int,
                 stride: Tuple[int, int], padding: Tuple[int, int], dilation: Tuple[int, int],
                 groups: int, layout: int = 0) -> Any:
    """The C description of a convolution (every value a non-negative int; stride,
    dilation and groups >= 1; channels divisible by groups). ``layout``: ``CONV_IN_NHWC``
    and / or ``CONV_OUT_NHWC`` for a channels_last input / output, else NCHW."""
    values = (n, c_in, h, w, c_out, kh, kw) + tuple(stride) + tuple(padding) + tuple(dilation) + (groups,)
    _sizes(*values)
    if min(stride) < 1 or min(dilation) < 1 or groups < 1 or kh < 1 or kw < 1:
        raise ValueError("conv2d: stride, dilation, groups and kernel sizes must be >= 1")
    if c_in % groups or c_out % groups:
        raise ValueError("conv2d: channels (%d in, %d out) not divisible by groups %d" % (c_in, c_out, groups))
    if layout not in (0, CONV_IN_NHWC, CONV_OUT_NHWC, CONV_IN_NHWC | CONV_OUT_NHWC):
        raise ValueError("conv2d: layout %r is not a combination of CONV_IN_NHWC and CONV_OUT_NHWC" % (layout,))
    return _ConvShape(n, c_in, h, w, c_out, kh, kw, stride[0], stride[1], padding[0], padding[1],
                      dilation[0], dilation[1], groups, layout)


def dense_flat(t: torch.Tensor) -> Optional[torch.Tensor]:
    """A 1-D view of ``t``'s elements in memory order when ``t`` is dense and does not
    overlap itself (a permutation of a contiguous layout: a transpose, a permute), else
    None."""
    if t.layout != torch.strided or t.numel() == 0:
        return None
    expect = 1
    for stride, size in sorted((st, sz) for sz, st in zip(t.shape, t.stride()) if sz != 1):
        if stride != expect:
            return None
        expect *= size
    return t.as_strided((t.numel(),), (1,))


def memory_order(t: torch.Tensor) -> Optional[Tuple[int, ...]]:
    """The permutation of ``t``'s dims that is contiguous (strides descending) when ``t``
    covers its memory densely without overlap in some order of its dims (contiguous,
    transposed, permuted, channels_last), else None (slices with steps, broadcast views)."""
    perm = tuple(sorted(range(t.dim()), key=lambda d: -t.stride(d)))
    return perm if t.permute(perm).is_contiguous() else None


def channels_last_dense(t: torch.Tensor) -> bool:
    """``t`` is a 4-D tensor whose memory holds it in channels_last (NHWC) order, densely."""
    return t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last)


def conv2d_out_hw(shape: Any) -> Tuple[int, int]:
    sizes = _conv_sizes(_integer_lib(), shape)
    return sizes[2], sizes[3]


# The shape's bytes -> (pack bytes, workspace bytes, output height, output width): functions
# of the shape alone, asked of C once per shape.
_conv_size_cache: Dict[bytes, Tuple[int, int, int, int]] = {}


def _conv_sizes(lib: Any, shape: Any) -> Tuple[int, int, int, int]:
    key = bytes(shape)
    sizes = _conv_size_cache.get(key)
    if sizes is None:
        ref = ctypes.byref(shape)
        sizes = (int(lib.ffqrt_conv2d_pack_size(ref)), int(lib.ffqrt_conv2d_workspace_size(ref)),
                 int(lib.ffqrt_conv2d_out_h(ref)), int(lib.ffqrt_conv2d_out_w(ref)))
        if len(_conv_size_cache) > 4096:
            _conv_size_cache.clear()
        _conv_size_cache[key] = sizes
    return sizes


def conv2d_pack(w: torch.Tensor, w_scale: torch.Tensor, shape: Any) -> Optional[torch.Tensor]:
    """Pack int8 conv weights [c_out, c_in / groups, kh, kw] (one float32 scale per output
    channel) for ``conv2d`` with ``shape`` (from ``conv2d_shape``)."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(shape, _ConvShape):
        raise ValueError("conv2d_pack: shape must come from conv2d_shape")
    expect = (shape.c_out, shape.c_in // shape.groups, shape.kh, shape.kw)
    if not isinstance(w, torch.Tensor) or tuple(w.shape) != expect:
        raise ValueError("conv2d_pack: weights must have shape %s" % (expect,))
    if (shape.c_in // shape.groups) * shape.kh * shape.kw > LINEAR_MAX_K:
        raise ValueError("conv2d_pack: reduction length exceeds %d" % LINEAR_MAX_K)
    _need(w, "conv2d_pack weights", (torch.int8,), w.numel())
    _need(w_scale, "conv2d_pack scales", (torch.float32,), shape.c_out)
    if shape.c_out and not bool((torch.isfinite(w_scale) & (w_scale > 0)).all()):
        raise ValueError("conv2d_pack: weight scales must be finite and > 0")
    packed = _empty_tracked((int(lib.ffqrt_conv2d_pack_size(ctypes.byref(shape))),), torch.uint8)
    _check(lib.ffqrt_conv2d_pack(packed.data_ptr(), w.data_ptr(), w_scale.data_ptr(), ctypes.byref(shape)),
           "conv2d_pack")
    return packed


def conv2d(x: torch.Tensor, px: QParam, packed: torch.Tensor, bias: Optional[torch.Tensor], shape: Any,
           out: Optional[QParam] = None, relu: bool = False,
           threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """int8 convolution of ``x`` [n, c, h, w] (per tensor ``px``) with a pack from
    ``conv2d_pack`` made for the same kernel; float32 output (plus ``bias``) or, with
    ``out``, requantized. ``x`` is contiguous, or channels_last when ``shape.layout`` has
    ``CONV_IN_NHWC``; the output is channels_last when it has ``CONV_OUT_NHWC``."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(shape, _ConvShape):
        raise ValueError("conv2d: shape must come from conv2d_shape")
    if not isinstance(x, torch.Tensor) or tuple(x.shape) != (shape.n, shape.c_in, shape.h, shape.w):
        raise ValueError("conv2d: input must have shape %s" % ((shape.n, shape.c_in, shape.h, shape.w),))
    if shape.layout & CONV_IN_NHWC:
        if not channels_last_dense(x):
            raise ValueError("conv2d: the layout says NHWC but the input is not channels_last")
        _need(x.permute(0, 2, 3, 1), "conv2d input", tuple(_TORCH_INT8), x.numel())
    else:
        _need(x, "conv2d input", tuple(_TORCH_INT8), x.numel())
    _need_qparam(px, "conv2d input", x)
    pack_bytes, work_bytes, oh, ow = _conv_sizes(lib, shape)
    if not _plain(packed, torch.uint8) or packed.numel() != pack_bytes:
        raise ValueError("conv2d: packed weights do not match the shape")
    if bias is not None:
        _need(bias, "conv2d bias", (torch.float32,), shape.c_out)
    work = _workspace(work_bytes)
    ctx = integer_context(threads)
    nhwc = bool(shape.layout & CONV_OUT_NHWC)
    dims = (shape.n, oh, ow, shape.c_out) if nhwc else (shape.n, shape.c_out, oh, ow)
    if out is None:
        y = _empty(dims, torch.float32)
        _check(lib.ffqrt_conv2d_f32(ctx, y.data_ptr(), x.data_ptr(), ctypes.byref(px._c), packed.data_ptr(),
                                    _ptr(bias), ctypes.byref(shape), work.data_ptr()), "conv2d_f32")
    else:
        _need_qparam(out, "conv2d output")
        y = _empty(dims, out.dtype)
        _check(lib.ffqrt_conv2d_q(ctx, y.data_ptr(), ctypes.byref(out._c), int(bool(relu)), x.data_ptr(),
                                  ctypes.byref(px._c), packed.data_ptr(), _ptr(bias), ctypes.byref(shape),
                                  work.data_ptr()), "conv2d_q")
    return y.permute(0, 3, 1, 2) if nhwc else y


def _conv_call_setup(call: Any, who: str, packed: torch.Tensor, bias: Optional[torch.Tensor], shape: Any,
                     out: Optional[QParam], px: Optional[QParam] = None) -> Tuple[Any, int]:
    """The checks and fields StaticConvCall and ConvCall share: libffqrt loaded, ``shape``
    from conv2d_shape, the input grid ``px`` (when given) and ``out`` QParams, ``packed`` the
    shape's pack, ``bias`` float32 [c_out]; sets ``call``'s shape, packed, bias, out, layout
    flags, output dims and dtype and the C pointers. Returns (library, conv2d workspace
    bytes); errors name ``who``."""
    lib = _integer_lib()
    if lib is None:
        raise RuntimeError("%s: libffqrt is not loaded" % who)
    if not isinstance(shape, _ConvShape):
        raise ValueError("%s: shape must come from conv2d_shape" % who)
    if px is not None:
        _need_qparam(px, who + " input grid")
    pack_bytes, work_bytes, oh, ow = _conv_sizes(lib, shape)
    if not _plain(packed, torch.uint8) or packed.numel() != pack_bytes:
        raise ValueError("%s: packed weights do not match the shape" % who)
    if bias is not None:
        _need(bias, who + " bias", (torch.float32,), shape.c_out)
    if out is not None:
        _need_qparam(out, who + " output")
    call.shape, call.packed, call.bias, call.out = shape, packed, bias, out
    call.nhwc_in, call.nhwc_out = bool(shape.layout & CONV_IN_NHWC), bool(shape.layout & CONV_OUT_NHWC)
    call.dims = (shape.n, oh, ow, shape.c_out) if call.nhwc_out else (shape.n, shape.c_out, oh, ow)
    call.y_dtype = torch.float32 if out is None else out.dtype
    call.py = None if out is None else ctypes.pointer(out._c)
    call.shape_ptr = ctypes.pointer(shape)
    call.packed_ptr, call.bias_ptr = packed.data_ptr(), _ptr(bias)
    return lib, work_bytes


class StaticConvCall:
    """``conv2d`` of a float32 input quantized onto the per-tensor 8-bit grid ``px`` in the
    same C call (``ffqrt_conv2d_static``), for one ``shape``, with the pack, bias and output
    grid (or float output) checked once. Each call checks its input: float32, the shape's
    dimensions, dense in the shape's input layout."""

    __slots__ = ("fn", "shape", "packed", "bias", "out", "px", "dims", "nhwc_in", "nhwc_out", "y_dtype", "py",
                 "px_ptr", "packed_ptr", "bias_ptr", "shape_ptr", "work_bytes")

    def __init__(self, px: QParam, packed: torch.Tensor, bias: Optional[torch.Tensor], shape: Any,
                 out: Optional[QParam] = None) -> None:
        lib, _ = _conv_call_setup(self, "StaticConvCall", packed, bias, shape, out, px)
        self.fn = lib.ffqrt_conv2d_static
        self.px, self.px_ptr = px, ctypes.pointer(px._c)
        self.work_bytes = int(lib.ffqrt_conv2d_static_workspace_size(ctypes.byref(shape)))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        s = self.shape
        if (type(x) is not torch.Tensor or x.dtype != torch.float32 or tuple(x.shape) != (s.n, s.c_in, s.h, s.w)
                or not (channels_last_dense(x) if self.nhwc_in else _plain(x, torch.float32))
                or not x.is_cpu or (_HAS_NEG and x.is_neg())):
            raise ValueError("StaticConvCall: input must be a dense float32 CPU tensor of shape %s%s"
                             % ((s.n, s.c_in, s.h, s.w), " (channels_last)" if self.nhwc_in else ""))
        y = _empty(self.dims, self.y_dtype)
        work = _workspace(self.work_bytes)
        _check(self.fn(integer_context(), y.data_ptr(), self.py, 0, x.data_ptr(), self.px_ptr, self.packed_ptr,
                       self.bias_ptr, self.shape_ptr, work.data_ptr()), "conv2d_static")
        return y.permute(0, 3, 1, 2) if self.nhwc_out else y


class ConvCall:
    """``conv2d`` of int8 codes with a pack, bias and output grid (or float output) checked
    once, for one ``shape``: what ``conv2d`` does, its checks of everything but the input
    and its grid made when the call object is made. Each call checks the input (int8 or
    uint8 of the grid's dtype, the shape's dimensions, dense in the shape's input layout,
    plain CPU memory) and that ``px`` is a QParam."""

    __slots__ = ("shape", "packed", "bias", "out", "dims", "nhwc_in", "nhwc_out", "y_dtype", "py", "packed_ptr",
                 "bias_ptr", "shape_ptr", "work_bytes", "x_shape")

    def __init__(self, packed: torch.Tensor, bias: Optional[torch.Tensor], shape: Any,
                 out: Optional[QParam] = None) -> None:
        _, self.work_bytes = _conv_call_setup(self, "ConvCall", packed, bias, shape, out)
        self.x_shape = (shape.n, shape.c_in, shape.h, shape.w)

    def __call__(self, x: torch.Tensor, px: QParam) -> torch.Tensor:
        if (type(x) is not torch.Tensor or type(px) is not QParam or x.dtype != px.dtype
                or x.shape != self.x_shape
                or not (channels_last_dense(x) if self.nhwc_in else x.is_contiguous())
                or not x.is_cpu or x.layout != torch.strided or (_HAS_NEG and x.is_neg())
                or (_HAS_CONJ and x.is_conj())):
            raise ValueError("ConvCall: input must be a dense int8 / uint8 CPU tensor of the grid's dtype, "
                             "shape %s%s" % (self.x_shape, " (channels_last)" if self.nhwc_in else ""))
        y = _empty(self.dims, self.y_dtype)
        keep, work = _call_workspace(self.work_bytes)
        ctx = integer_context()
        if self.out is None:
            status = _state["lib"].ffqrt_conv2d_f32(ctx, y.data_ptr(), x.data_ptr(), ctypes.byref(px._c),
                                                    self.packed_ptr, self.bias_ptr, self.shape_ptr, work)
        else:
            status = _state["lib"].ffqrt_conv2d_q(ctx, y.data_ptr(), self.py, 0, x.data_ptr(), ctypes.byref(px._c),
                                                  self.packed_ptr, self.bias_ptr, self.shape_ptr, work)
        del keep
        _check(status, "conv2d_f32" if self.out is None else "conv2d_q")
        return y.permute(0, 3, 1, 2) if self.nhwc_out else y


class AffineChannelsCall:
    """``affine_f32_channels`` with the grid and the per-channel scales and shifts checked
    once (a batch norm's): each call checks only the codes (int8, dim 1 the channels,
    contiguous or channels_last, plain CPU memory)."""

    __slots__ = ("px", "a", "b", "c", "a_ptr", "b_ptr")

    def __init__(self, px: QParam, a: torch.Tensor, b: torch.Tensor) -> None:
        if _integer_lib() is None:
            raise ValueError("AffineChannelsCall: libffqrt is not loaded")
        _need_qparam(px, "AffineChannelsCall grid")
        if px.dtype != torch.int8:
            raise ValueError("AffineChannelsCall: the grid must be int8")
        c = a.numel() if isinstance(a, torch.Tensor) else 0
        _need(a, "AffineChannelsCall scales", (torch.float32,), c)
        _need(b, "AffineChannelsCall shifts", (torch.float32,), c)
        if a.dim() != 1 or b.dim() != 1:
            raise ValueError("AffineChannelsCall: scales and shifts must be 1-D")
        self.px, self.a, self.b, self.c = px, a, b, c
        self.a_ptr, self.b_ptr = a.data_ptr(), b.data_ptr()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if (type(x) is not torch.Tensor or x.dtype != torch.int8 or x.dim() < 2 or x.shape[1] != self.c
                or not x.is_cpu or x.layout != torch.strided or (_HAS_NEG and x.is_neg())):
            raise ValueError("AffineChannelsCall: x must be a plain int8 CPU tensor of %d channels" % self.c)
        shape = x.shape
        if x.is_contiguous():
            # (an ordinary tensor even under inference_mode: fastforward._integer keeps
            # what it was computed from by its version counter)
            y = _empty_tracked(shape, torch.float32)
            outer = shape[0]
            inner = x.numel() // (outer * self.c) if outer * self.c else 0
        elif channels_last_dense(x):
            y = torch.empty(shape, dtype=torch.float32, memory_format=torch.channels_last)
            outer, inner = shape[0] * shape[2] * shape[3], 1
        else:
            raise ValueError("AffineChannelsCall: x must be contiguous or channels_last (copy it first)")
        _check(_state["lib"].ffqrt_affine_f32_channels(integer_context(), y.data_ptr(), x.data_ptr(),
                                                       ctypes.byref(self.px._c), self.a_ptr, self.b_ptr, outer,
                                                       self.c, inner), "affine_f32_channels")
        return y


def _eltwise(name: str, a: torch.Tensor, pa: QParam, b: torch.Tensor, pb: QParam, out: QParam,
             relu: bool, threads: Optional[int]) -> Optional[torch.Tensor]:
    lib = _integer_lib()
    if lib is None:
        return None
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
        raise ValueError("%s: operands must be tensors of one shape" % name)
    _need(a, name + " lhs", tuple(_TORCH_INT8), a.numel())
    _need(b, name + " rhs", tuple(_TORCH_INT8), a.numel())
    _need_qparam(pa, name + " lhs", a)
    _need_qparam(pb, name + " rhs", b)
    _need_qparam(out, name + " output")
    y = _empty(a.shape, out.dtype)
    fn = lib.ffqrt_add if name == "add" else lib.ffqrt_mul
    _check(fn(integer_context(threads), y.data_ptr(), ctypes.byref(out._c), int(bool(relu)), a.data_ptr(),
              ctypes.byref(pa._c), b.data_ptr(), ctypes.byref(pb._c), a.numel()), name)
    return y


def add(a: torch.Tensor, pa: QParam, b: torch.Tensor, pb: QParam, out: QParam, relu: bool = False,
        threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """Elementwise ``quantize(dq(a) + dq(b))`` onto ``out``'s grid (same-shape operands)."""
    return _eltwise("add", a, pa, b, pb, out, relu, threads)


def mul(a: torch.Tensor, pa: QParam, b: torch.Tensor, pb: QParam, out: QParam, relu: bool = False,
        threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """Elementwise ``quantize(dq(a) * dq(b))`` onto ``out``'s grid (same-shape operands)."""
    return _eltwise("mul", a, pa, b, pb, out, relu, threads)


LAYER_NORM_MAX_D = 524288


def _row_codes(name: str, x: Any, px: QParam, out: QParam) -> Tuple[int, int]:
    """(rows, d) of the codes ``x`` [rows, d] of a row kernel, checked with their grids."""
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        raise ValueError("%s: x must be a 2-D tensor [rows, d]" % name)
    rows, d = (int(v) for v in x.shape)
    _need(x, name + " input", tuple(_TORCH_INT8), rows * d)
    _need_qparam(px, name + " input", x)
    _need_qparam(out, name + " output")
    return rows, d


def layer_norm8(x: torch.Tensor, px: QParam, gamma: Optional[torch.Tensor], beta: Optional[torch.Tensor],
                eps: float, out: QParam, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """Layer norm over the last dimension of int8 / uint8 codes ``x`` [rows, d] (grid
    ``px``) onto the grid ``out``: ``quantize((v - mean) / sqrt(var + eps) * gamma + beta)``
    with ``v`` the dequantized row; ``gamma`` / ``beta`` float32 [d] or None."""
    lib = _integer_lib()
    if lib is None:
        return None
    rows, d = _row_codes("layer_norm8", x, px, out)
    if d > LAYER_NORM_MAX_D:
        raise ValueError("layer_norm8: d = %d exceeds %d" % (d, LAYER_NORM_MAX_D))
    for t, what in ((gamma, "weight"), (beta, "bias")):
        if t is not None:
            _need(t, "layer_norm8 " + what, (torch.float32,), d)
    if not (isinstance(eps, (int, float)) and 0.0 <= float(eps) < math.inf):
        raise ValueError("layer_norm8: eps must be a finite number >= 0, got %r" % (eps,))
    y = _empty((rows, d), out.dtype)
    _check(lib.ffqrt_layer_norm8(integer_context(threads), y.data_ptr(), ctypes.byref(out._c), x.data_ptr(),
                                 ctypes.byref(px._c), _ptr(gamma), _ptr(beta), float(eps), rows, d), "layer_norm8")
    return y


def softmax8(x: torch.Tensor, px: QParam, out: QParam, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """Softmax over the last dimension of int8 / uint8 codes ``x`` [rows, d] (grid ``px``)
    onto the grid ``out``: ``quantize(exp(v - max v) / sum exp(v - max v))`` with ``v`` the
    dequantized row (the exponentials from a table of the 256 code differences)."""
    lib = _integer_lib()
    if lib is None:
        return None
    rows, d = _row_codes("softmax8", x, px, out)
    y = _empty((rows, d), out.dtype)
    _check(lib.ffqrt_softmax8(integer_context(threads), y.data_ptr(), ctypes.byref(out._c), x.data_ptr(),
                              ctypes.byref(px._c), rows, d), "softmax8")
    return y


def lut8(x: torch.Tensor, table: torch.Tensor, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``table[x]`` for an int8 or uint8 tensor ``x`` (indexed by its bytes: 0..127, then
    -128..-1 for int8) and a 256-entry int8 / uint8 ``table``; same shape, the table's
    dtype. A channels_last ``x`` gives a channels_last result."""
    return _lookup("lut8", x, table, tuple(_TORCH_INT8), threads)


def lut8_channels(x: torch.Tensor, tables: torch.Tensor, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``tables[c][x]`` for a contiguous int8 / uint8 tensor ``x`` of two or more dims whose
    dim 1 is the channel c (indexed by its bytes, as ``lut8``) and int8 / uint8 ``tables``
    of shape ``[channels, 256]``: a contiguous tensor of ``x``'s shape and the tables'
    dtype (ffqrt_lut8_channels). None when C is not available; ValueError otherwise."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        raise ValueError("lut8_channels: x must be a tensor of two or more dims")
    _need(x, "lut8_channels input", tuple(_TORCH_INT8), x.numel())
    c = int(x.shape[1])
    if not isinstance(tables, torch.Tensor) or tuple(tables.shape) != (c, 256):
        raise ValueError("lut8_channels: tables must be [channels, 256] = [%d, 256]" % c)
    _need(tables, "lut8_channels tables", tuple(_TORCH_INT8), c * 256)
    outer = int(x.shape[0])
    inner = x.numel() // (outer * c) if outer * c else 0
    y = _empty(x.shape, tables.dtype)
    _check(lib.ffqrt_lut8_channels(integer_context(threads), y.data_ptr(), x.data_ptr(), tables.data_ptr(), outer,
                                   c, inner), "lut8_channels")
    return y


def lut8_planes(x: torch.Tensor, tables: torch.Tensor, sel: torch.Tensor,
                threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``tables[sel[p]][x[p][i]]`` for a contiguous int8 / uint8 tensor ``x`` read as
    ``sel.numel()`` planes of equal size, ``tables`` of ``[256, 256]`` int8 / uint8 entries
    and one selector byte a plane in ``sel`` (int8 / uint8; each indexed by its byte, as
    ``lut8``): a tensor of ``x``'s shape and the tables' dtype (ffqrt_lut8_planes). None
    when C is not available; ValueError for anything else."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(sel, torch.Tensor) or sel.numel() == 0:
        raise ValueError("lut8_planes: sel must be a tensor of one byte a plane")
    planes = sel.numel()
    _need(sel, "lut8_planes selectors", tuple(_TORCH_INT8), planes)
    if not isinstance(x, torch.Tensor) or x.numel() % planes:
        raise ValueError("lut8_planes: x must hold %d planes of equal size" % planes)
    _need(x, "lut8_planes input", tuple(_TORCH_INT8), x.numel())
    if not isinstance(tables, torch.Tensor) or tuple(tables.shape) != (256, 256):
        raise ValueError("lut8_planes: tables must be [256, 256]")
    _need(tables, "lut8_planes tables", tuple(_TORCH_INT8), 65536)
    y = _empty(x.shape, tables.dtype)
    _check(lib.ffqrt_lut8_planes(integer_context(threads), y.data_ptr(), x.data_ptr(), tables.data_ptr(),
                                 sel.data_ptr(), planes, x.numel() // planes), "lut8_planes")
    return y


def lut_f32(x: torch.Tensor, table: torch.Tensor, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``table[x]`` for an int8 or uint8 tensor ``x`` (indexed by its bytes, as ``lut8``)
    and a 256-entry float32 ``table``: a float32 tensor of ``x``'s shape (channels_last
    when ``x`` is)."""
    return _lookup("lut_f32", x, table, (torch.float32,), threads)


def _channels_layout(name: str, x: Any, dtypes: Sequence[torch.dtype]) -> Tuple[torch.Tensor, torch.Tensor,
                                                                                torch.Tensor, int, int, int]:
    """(x as C reads it, the float32 result, that result as C writes it, outer, channels,
    inner) for a per-channel op on ``x`` (two or more dims, dim 1 the channel): contiguous,
    or channels_last (the result too)."""
    if not isinstance(x, torch.Tensor) or x.dtype not in dtypes or x.dim() < 2:
        raise ValueError("%s: x must be an int8 tensor of two or more dims" % name)
    shape = tuple(x.shape)
    if x.is_contiguous():
        flat = x
        y = out = _empty(shape, torch.float32)
        inner = 1
        for size in shape[2:]:
            inner *= size
        outer = shape[0]
    elif channels_last_dense(x):
        flat = x.permute(0, 2, 3, 1)
        y = torch.empty(shape, dtype=torch.float32, memory_format=torch.channels_last)
        out = y.permute(0, 2, 3, 1)
        outer, inner = shape[0] * shape[2] * shape[3], 1
    else:
        raise ValueError("%s: x must be contiguous or channels_last (copy it first)" % name)
    _need(flat, name + " input", dtypes, x.numel())
    _need(out, name + " output", (torch.float32,), x.numel())
    return flat, y, out, outer, shape[1], inner


def lut_f32_channels(x: torch.Tensor, tables: torch.Tensor, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``tables[c][x]`` for an int8 or uint8 tensor ``x`` of two or more dims whose dim 1 is
    the channel (indexed by its bytes, as ``lut8``) and float32 ``tables`` of shape
    ``[channels, 256]``: a float32 tensor of ``x``'s shape, contiguous, or channels_last
    when ``x`` is (ffqrt_lut_f32_channels). None when C is not available; ValueError for
    anything else."""
    lib = _integer_lib()
    if lib is None:
        return None
    flat, y, out, outer, c, inner = _channels_layout("lut_f32_channels", x, tuple(_TORCH_INT8))
    if not isinstance(tables, torch.Tensor) or tuple(tables.shape) != (c, 256):
        raise ValueError("lut_f32_channels: tables must be [channels, 256] = [%d, 256]" % c)
    _need(tables, "lut_f32_channels tables", (torch.float32,), c * 256)
    _check(lib.ffqrt_lut_f32_channels(integer_context(threads), out.data_ptr(), flat.data_ptr(), tables.data_ptr(),
                                      outer, c, inner), "lut_f32_channels")
    return y


def affine_f32_channels(x: torch.Tensor, px: "QParam", a: torch.Tensor, b: torch.Tensor,
                        threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``fma((x - z) * s, a[c], b[c])`` for int8 codes ``x`` on the grid ``px`` (two or more
    dims, dim 1 the channel c) and float32 ``a``, ``b`` of one value a channel: the
    dequantized value rounded once, then one fused multiply-add (ffqrt_affine_f32_channels),
    laid out as ``lut_f32_channels`` lays it out. None when C is not available; ValueError
    for anything else."""
    lib = _integer_lib()
    if lib is None:
        return None
    flat, y, out, outer, c, inner = _channels_layout("affine_f32_channels", x, (torch.int8,))
    _need_qparam(px, "affine_f32_channels grid", x)
    _need(a, "affine_f32_channels scales", (torch.float32,), c)
    _need(b, "affine_f32_channels shifts", (torch.float32,), c)
    _check(lib.ffqrt_affine_f32_channels(integer_context(threads), out.data_ptr(), flat.data_ptr(),
                                         ctypes.byref(px._c), a.data_ptr(), b.data_ptr(), outer, c, inner),
           "affine_f32_channels")
    return y


# ffqrt.h's FFQRT_ACT_* codes.
ACTIVATIONS = {"gelu_tanh": 0}


def act_f32(x: torch.Tensor, act: str, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``act`` (``"gelu_tanh"``, the only one so far: GELU with ``approximate="tanh"``) of a
    float32 tensor, contiguous or channels_last (the result in the same layout), computed by
    libffqrt (ffqrt_act_f32: within 2^-22 max(1, |x|) of the exact function, as torch's own
    float kernels are). None when C is not available; ValueError for another tensor or
    activation."""
    code = ACTIVATIONS.get(act) if isinstance(act, str) else None
    if code is None:
        raise ValueError("act_f32: activation must be one of %s, got %r" % (", ".join(sorted(ACTIVATIONS)), act))
    lib = _integer_lib()
    if lib is None:
        return None
    nhwc = isinstance(x, torch.Tensor) and not x.is_contiguous() and channels_last_dense(x)
    flat = x.permute(0, 2, 3, 1) if nhwc else x
    _need(flat, "act_f32 input", (torch.float32,), flat.numel() if isinstance(flat, torch.Tensor) else 0)
    y = _empty(flat.shape, torch.float32)
    _check(lib.ffqrt_act_f32(integer_context(threads), y.data_ptr(), flat.data_ptr(), flat.numel(), code), "act_f32")
    return y.permute(0, 3, 1, 2) if nhwc else y


def _lookup(name: str, x: torch.Tensor, table: torch.Tensor, table_dtypes: Tuple[torch.dtype, ...],
            threads: Optional[int]) -> Optional[torch.Tensor]:
    """``ffqrt_<name>``: ``table[x]`` by the bytes of ``x``, the result of the table's dtype."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(x, torch.Tensor) or x.dtype not in _TORCH_INT8:
        raise ValueError("%s: x must be an int8 or uint8 tensor" % name)
    _need(table, name + " table", table_dtypes, 256)
    if x.is_contiguous():
        flat, y = x, _empty(x.shape, table.dtype)
        out = y
    else:
        # any other dense order (transposed, permuted, channels_last): the lookup runs over
        # the memory, and the result has x's strides, as torch's elementwise ops give them
        perm = memory_order(x)
        if perm is None:
            raise ValueError("%s: x must cover its memory densely (copy it first)" % name)
        y = torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=table.dtype)
        flat, out = x.permute(perm), y.permute(perm)
    _need(flat, name + " input", tuple(_TORCH_INT8), x.numel())
    _need(out, name + " output", table_dtypes, x.numel())
    _check(getattr(lib, "ffqrt_" + name)(integer_context(threads), out.data_ptr(), flat.data_ptr(), table.data_ptr(),
                                         x.numel()), name)
    return y


def _pool_out(size: int, k: int, stride: int, pad: int, dil: int, ceil_mode: bool) -> int:
    """torch's output size of one pooled dimension (below 1 when no window fits)."""
    room = size + 2 * pad - dil * (k - 1) - 1  # (negative when the kernel is larger: floor division)
    out = (room + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the image or its left padding
    return out


def _pool2d(name: str, x: torch.Tensor, dtypes: Tuple[torch.dtype, ...], pairs: Tuple[Any, ...], ceil_mode: bool,
            divisor: int, count_include_pad: bool, threads: Optional[int]) -> Optional[torch.Tensor]:
    """``ffqrt_<name>`` of a 4-D tensor ``x`` of ``dtypes``, contiguous or channels_last (the
    result in the same layout). ``pairs``: kernel, stride, padding and dilation, each a pair
    of ints checked as torch checks them (padding at most half the kernel). None when C is
    not available; ValueError for what torch would refuse or the kernel does not take."""
    lib = _integer_lib()
    if lib is None:
        return None
    if not isinstance(x, torch.Tensor) or x.dtype not in dtypes or x.dim() != 4:
        raise ValueError("%s: x must be a 4-D %s tensor" % (name, " or ".join(str(d).split(".")[-1] for d in dtypes)))
    nhwc = not x.is_contiguous() and channels_last_dense(x)
    flat = x.permute(0, 2, 3, 1) if nhwc else x
    _need(flat, name + " input", (x.dtype,), x.numel())
    args = tuple(v for pair in pairs for v in pair)
    if len(args) != 8 or any(type(v) is not int for v in args):
        raise ValueError("%s: kernel, stride, padding and dilation must be pairs of ints" % name)
    kh, kw, sh, sw, ph, pw, dh, dw = args
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError("%s: kernel, stride and dilation must be positive, padding not negative" % name)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError("%s: padding must be at most half the kernel" % name)
    n, c, h, w = (int(d) for d in x.shape)
    oh, ow = _pool_out(h, kh, sh, ph, dh, ceil_mode), _pool_out(w, kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1 or x.numel() == 0:
        raise ValueError("%s: no output (the kernel is larger than the padded input, or x is empty)" % name)
    shape = _PoolShape(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, _POOL_ELEM[x.dtype], int(nhwc), divisor,
                       int(count_include_pad))
    y = _empty((n, oh, ow, c) if nhwc else (n, c, oh, ow), x.dtype)
    _check(getattr(lib, "ffqrt_" + name)(integer_context(threads), y.data_ptr(), flat.data_ptr(), ctypes.byref(shape)),
           name)
    return y.permute(0, 3, 1, 2) if nhwc else y


def max_pool2d(x: torch.Tensor, kernel: Tuple[int, int], stride: Tuple[int, int], padding: Tuple[int, int],
               dilation: Tuple[int, int], ceil_mode: bool, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``torch.nn.functional.max_pool2d`` of a 4-D float32, int8 or uint8 tensor, contiguous
    or channels_last (the result in the same layout), with every argument a pair of ints as
    torch checks them (padding at most half the kernel); exact, NaN propagating as in
    torch. None when C is not available; ValueError for what torch would refuse or the
    kernel does not take (the caller falls back to torch, which raises its own error)."""
    return _pool2d("max_pool2d", x, tuple(_POOL_ELEM), (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation)),
                   ceil_mode, 0, False, threads)


def avg_pool2d(x: torch.Tensor, kernel: Tuple[int, int], stride: Tuple[int, int], padding: Tuple[int, int],
               ceil_mode: bool, count_include_pad: bool, divisor_override: Optional[int],
               threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """``torch.nn.functional.avg_pool2d`` of a 4-D float32 tensor, contiguous or
    channels_last (the result in the same layout): the same bits as torch's CPU kernel (the
    window's elements summed in row-major order in float32, then divided). None when C is
    not available; ValueError for what torch would refuse or the kernel does not take."""
    if type(ceil_mode) is not bool or type(count_include_pad) is not bool:
        raise ValueError("avg_pool2d: ceil_mode and count_include_pad must be bools")
    if divisor_override is not None and (type(divisor_override) is not int or not 0 < divisor_override <= 1 << 24):
        raise ValueError("avg_pool2d: divisor_override must be an int in 1..2^24")
    return _pool2d("avg_pool2d", x, (torch.float32,), (tuple(kernel), tuple(stride), tuple(padding), (1, 1)),
                   ceil_mode, divisor_override or 0, count_include_pad, threads)


def contiguous8(x: torch.Tensor, threads: Optional[int] = None) -> Optional[torch.Tensor]:
    """A contiguous copy of a channels_last int8 / uint8 tensor (torch's own copy of such a
    permutation is slow for bytes), or None when ``x`` is not one or C is not available."""
    lib = _integer_lib()
    if lib is None or not isinstance(x, torch.Tensor) or x.dtype not in _TORCH_INT8 or not channels_last_dense(x):
        return None
    src = x.permute(0, 2, 3, 1)
    if not _plain(src, x.dtype):
        return None
    n, c, h, w = (int(d) for d in x.shape)
    y = _empty((n, c, h, w), x.dtype)
    _check(lib.ffqrt_nhwc_to_nchw8(integer_context(threads), y.data_ptr(), src.data_ptr(), n, c, h * w),
           "nhwc_to_nchw8")
    return y

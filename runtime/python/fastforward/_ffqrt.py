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
import os
import threading
import warnings
from typing import Optional, Sequence, Tuple

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
_ISA_NAMES = {0: "auto", 1: "ref", 2: "avx2", 3: "avx512vnni"}


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
    for name in ("ffqrt_quantize", "ffqrt_dequantize", "ffqrt_fake_quantize"):
        fn = getattr(lib, name)
        fn.argtypes = [vp, vp, vp, grid, vp, vp, ctypes.c_int]
        fn.restype = ctypes.c_int


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
    """Name of the kernel variant the C library runs on this CPU ('avx512vnni', 'avx2',
    'ref'), or 'torch' when the library is not available."""
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


def _params_ok(
    grid: _Grid,
    n_params: int,
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    dtype: int,
) -> bool:
    lib = _state["lib"]
    if lib.ffqrt_grid_params(ctypes.byref(grid)) != n_params:
        return False
    if not _plain(scale, torch.float32) or scale.numel() != n_params:
        return False
    if not bool(torch.isfinite(scale).all()) or not bool((scale > 0).all()):
        return False
    if zero_point is not None:
        if not _plain(zero_point, torch.int32) or zero_point.numel() != n_params:
            return False
        if bool((zero_point < _QMIN[dtype]).any()) or bool((zero_point > _QMAX[dtype]).any()):
            return False
    return True


def _plain(t: torch.Tensor, dtype: torch.dtype) -> bool:
    """A dense, contiguous CPU tensor of ``dtype`` whose memory holds its values as is."""
    return (
        type(t) is torch.Tensor  # never a subclass: a QuantizedTensor's memory is its raw data
        and t.dtype == dtype
        and t.device.type == "cpu"
        and t.layout == torch.strided
        and t.is_contiguous()
        and not getattr(t, "is_neg", lambda: False)()
        and not getattr(t, "is_conj", lambda: False)()
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
    t = torch.empty(tuple(shape), dtype=dtype)
    if t.numel() * t.element_size() >= 4 * _HUGE_PAGE:
        _advise_huge(t)
    return t


_scratch = threading.local()
_SCRATCH_MAX = 64 << 20


def _scratch_bytes(n: int) -> torch.Tensor:
    """A per-thread byte buffer of at least ``n`` bytes for intermediates that never leave
    this module (kept up to 64 MB; larger requests get a fresh buffer)."""
    if n > _SCRATCH_MAX:
        return _empty((n,), torch.uint8)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.numel() < n:
        buf = _empty((max(n, 1 << 20),), torch.uint8)
        _scratch.buf = buf
    return buf[:n]


def _make_grid(shape: Sequence[int], tile: Sequence[int]) -> Optional[_Grid]:
    g = grid_for_tiles(shape, tile)
    return None if g is None else _Grid(*g)


def _ptr(t: Optional[torch.Tensor]) -> Optional[int]:
    return None if t is None else t.data_ptr()


def quantize(
    x: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    num_bits: int,
) -> Optional[torch.Tensor]:
    """Raw grid values of ``x`` as float32 (``clamp(round(x / s) + zp, qmin, qmax)``), or
    None when C cannot do this call. ``scale``: float32, one per tile; ``zero_point``:
    int32 or None (= 0)."""
    if num_bits not in GRID_DTYPES or not _plain(x, torch.float32) or x.numel() == 0:
        return None
    lib = _lib_or_warn()
    if lib is None:
        return None
    grid = _make_grid(x.shape, tile)
    dtype = GRID_DTYPES[num_bits]
    if grid is None or not _params_ok(grid, scale.numel(), scale, zero_point, dtype):
        return None
    n = x.numel()
    q = _scratch_bytes(lib.ffqrt_storage_bytes(dtype, n))
    status = lib.ffqrt_quantize(
        _state["ctx"], q.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), dtype,
    )
    if status != _OK:
        return None
    out = _empty(x.shape, torch.float32)
    if dtype == _S8:
        out.view(-1).copy_(q.view(torch.int8))  # exact: small integers
        return out
    # Unpack the nibbles with the C dequantizer at scale 1 and zero point 0.
    ones = torch.ones(scale.numel(), dtype=torch.float32)
    status = lib.ffqrt_dequantize(
        _state["ctx"], out.data_ptr(), q.data_ptr(), ctypes.byref(grid), ones.data_ptr(),
        None, dtype,
    )
    return out if status == _OK else None


def quantize_int8(
    x: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
) -> Optional[torch.Tensor]:
    """8-bit raw grid values of ``x`` stored as int8, or None when C cannot do this call."""
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
        _state["ctx"], q.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), _S8,
    )
    return q if status == _OK else None


def dequantize(
    raw: torch.Tensor,
    tile: Sequence[int],
    scale: torch.Tensor,
    zero_point: Optional[torch.Tensor],
    num_bits: int,
) -> Optional[torch.Tensor]:
    """``(raw - zp) * s`` as float32 for int8 ``raw`` holding ``num_bits``=8 values, or None
    when C cannot do this call."""
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
        _state["ctx"], out.data_ptr(), raw.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
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
        _state["ctx"], out.data_ptr(), x.data_ptr(), ctypes.byref(grid), scale.data_ptr(),
        _ptr(zero_point), dtype,
    )
    return out if status == _OK else None

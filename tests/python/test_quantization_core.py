"""Tests of the quantization core: libffqrt bridge, affine quantization, QuantizedTensor,
quantization functions, quantizers, range setting, dispatcher and strict mode.

Run with any Python that has torch (1.13 or 2.x) and hypothesis:

    python3 tests/python/test_quantization_core.py          # plain runner
    /usr/bin/python3 tests/python/test_quantization_core.py # Debian's torch 1.13

Set FFQRT_LIBRARY to the build's libffqrt.so (meson does) so the C path is exercised;
without it the C-vs-torch comparisons are skipped with a reason. Integer and float
results are compared bit for bit unless a tolerance is stated.
"""

import copy
import io
import math
import os
import pickle
import struct
import subprocess
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward import _ffqrt, dispatcher  # noqa: E402
from fastforward.exceptions import QuantizationError  # noqa: E402
from fastforward.nn import DynamicLinearQuantizer, LinearQuantizer, QuantizerStub  # noqa: E402
from fastforward.quantization import affine  # noqa: E402
from fastforward.quantization.affine import _kernels as K  # noqa: E402
from fastforward.quantization.function import (  # noqa: E402
    BoundQuantizationFunction,
    QuantizationAutogradFunction,
    QuantizationFunction,
)
from fastforward.quantization.granularity import PerBlock, PerChannel, PerTensor, PerTile  # noqa: E402
from fastforward.quantization.ste import round_ste  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from fastforward.range_setting import (  # noqa: E402
    BatchMinMax,
    ExpAvgMinMax,
    MinErrorGridRangeEstimator,
    RunningMinMaxRangeEstimator,
    SmoothedMinMaxRangeEstimator,
    estimate_ranges,
)
from fastforward.testing import isolated_state  # noqa: E402
from plain_runner import isolation, run, skip  # noqa: E402

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def bits_of(t):
    """The bit patterns of a float tensor (so -0.0 != 0.0 and NaNs compare by payload)."""
    t = t.detach().contiguous()
    view = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16,
            torch.bfloat16: torch.int16}.get(t.dtype)
    return t.view(view) if view is not None else t


def assert_bitwise(a, b, what=""):
    assert a.shape == b.shape and a.dtype == b.dtype, "%s: %s %s vs %s %s" % (
        what, tuple(a.shape), a.dtype, tuple(b.shape), b.dtype)
    if not torch.equal(bits_of(a), bits_of(b)):
        diff = (bits_of(a) != bits_of(b)).nonzero()[:5].tolist()
        raise AssertionError("%s: results differ at %s" % (what, diff))


def raises(exc, fn, *words):
    """Call fn; it must raise exc with every word in the message. Returns the message."""
    try:
        fn()
    except exc as e:
        message = str(e)
        for word in words:
            assert str(word) in message, "message %r lacks %r" % (message, word)
        return message
    raise AssertionError("%s was not raised" % exc.__name__)


# --- granularities for the property tests ------------------------------------------------------

def _granularities(shape):
    """(name, granularity) pairs that tile ``shape``."""
    out = [("tensor", PerTensor())]
    for d in range(len(shape)):
        out.append(("channel%d" % d, PerChannel(d)))
    out.append(("channel-1", PerChannel(-1)))
    if len(shape) >= 2:
        out.append(("channels01", PerChannel((0, 1))))
    last = shape[-1]
    for b in (2, 4):
        if last % b == 0 and last > b:
            out.append(("block%d" % b, PerBlock(-1, b, per_channel_dims=0 if len(shape) > 1 else ())))
            if len(shape) >= 2:
                out.append(("block%d-whole" % b, PerBlock(len(shape) - 1, b)))
    if len(shape) >= 2 and shape[-1] % 2 == 0 and shape[-2] % 2 == 0:
        out.append(("tile2x2", PerTile(tuple(shape[:-2]) + (2, 2))))
        if len(shape) >= 3:
            out.append(("tile-mixed", PerTile((1,) + tuple(shape[1:-2]) + (shape[-2], 2))))
    return out


def _tile_of(shape, granularity):
    return K.tile_shape(shape, granularity.tile_size(torch.Size(shape)))


def _params_from_data(x, granularity, num_bits, mode):
    """Per-tile scale/offset from the data's per-tile range, as a user would set them."""
    lo, hi = ff.range_setting.common.tile_minmax(x.float(), granularity)
    lo = torch.where(torch.isfinite(lo), lo, torch.zeros_like(lo))
    hi = torch.where(torch.isfinite(hi), hi, torch.zeros_like(hi))
    if mode == "one-sided":
        lo = lo.clamp_min(0)
        hi = hi.clamp_min(0)
    return affine.parameters_for_range(lo, hi, num_bits, symmetric=mode != "asymmetric",
                                       allow_one_sided=mode == "one-sided")


shapes = st.lists(st.sampled_from([1, 2, 3, 4, 6, 8]), min_size=1, max_size=4)
modes = st.sampled_from(["symmetric", "asymmetric", "one-sided"])


def _random_data(shape, seed, spread):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g) * spread
    flat = x.view(-1)
    if flat.numel() >= 4:
        flat[0] = 0.5 * spread  # exact ties and special values appear now and then
        flat[1] = -0.0
        flat[-1] = flat[-1] * 40  # an outlier that clips
    return x


# --- 1. C and torch paths are bit-identical --------------------------------------------------


def _need_c():
    if not _ffqrt.available():
        skip("libffqrt not loaded (set FFQRT_LIBRARY); C-vs-torch comparison impossible")


@PROPERTY
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), num_bits=st.integers(2, 16), mode=modes,
       spread=st.sampled_from([1e-3, 1.0, 50.0]))
def _check_c_matches_torch(shape, seed, num_bits, mode, spread):
    x = _random_data(shape, seed, spread)
    for name, gran in _granularities(shape):
        tile = _tile_of(shape, gran)
        scale, offset = _params_from_data(x, gran, num_bits, mode)
        if offset is not None and mode == "asymmetric":
            offset = offset + 0.37  # an unrounded offset exercises round(o)
        ref = K.quantize_torch(x, scale, offset, tile, num_bits)
        fast = K.quantize_raw(x, scale, offset, tile, num_bits)
        assert_bitwise(fast, ref, "quantize %s b=%d %s" % (name, num_bits, mode))
        ready = K._c_ready(x, scale, offset, num_bits)
        if num_bits in (4, 8) and offset is not None and mode != "asymmetric":
            assert ready is not None, "offset from a range with 0 not sent to C: %s %s" % (name, mode)
        if ready is not None:
            assert _ffqrt.quantize(x, tile, ready[0], ready[1], num_bits) is not None, (
                "C refused a call it supports: %s b=%d %s" % (name, num_bits, mode))
        ref_fq = K.dequantize_torch(ref, scale, offset, tile)
        fast_fq = K.fake_quantize_raw(x, scale, offset, tile, num_bits)
        assert_bitwise(fast_fq, ref_fq, "fake-quantize %s b=%d %s" % (name, num_bits, mode))
        if num_bits == 8:
            raw8 = ref.to(torch.int8)
            assert_bitwise(K.dequantize_raw(raw8, scale, offset, tile, 8),
                           K.dequantize_torch(raw8, scale, offset, tile), "dequantize int8 %s" % name)


def test_c_and_torch_paths_are_bit_identical():
    _need_c()
    _check_c_matches_torch()


def test_c_path_special_values():
    _need_c()
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 0.5, 1.5, 2.5, -0.5,
                      -2.5, 1e30, -1e30, 126.5, 127.5, -128.5, 3.4e38], dtype=torch.float32)
    for bits in (4, 8):
        for offset in (None, torch.tensor([0.0]), torch.tensor([-3.0]), torch.tensor([2.5]),
                       torch.tensor([3.0]), torch.tensor([-1.0]), torch.tensor([7.0]), torch.tensor([-8.0])):
            s = torch.tensor([1.0])
            tile = (x.numel(),)
            assert_bitwise(K.quantize_raw(x, s, offset, tile, bits), K.quantize_torch(x, s, offset, tile, bits),
                           "special values b=%d o=%r" % (bits, offset))
    raw = K.quantize_raw(x, torch.tensor([1.0]), None, (x.numel(),), 8)
    assert raw[0].item() == -128, "NaN quantizes to qmin"


def test_c_path_odd_zero_points_at_exact_ties():
    # x / s lands exactly on k + 0.5; with an odd zero point, rounding before adding it would
    # give the other neighbour. Every tie of the grid, per-tensor and per-channel, 8 and 4 bits.
    _need_c()
    for bits in (4, 8):
        half = 2 ** (bits - 1)
        ks = torch.arange(-2 * half, 2 * half, dtype=torch.float32)
        for s_val in (1.0, 0.25, 0.1):
            s = torch.tensor([s_val])
            x = ((ks + 0.5) * s_val).reshape(1, -1)
            for r in (-half + 1, -3.0, -1.0, 1.0, 3.0, half - 1, half):  # zp = -r, odd and even
                o = torch.tensor([float(r)])
                ready = K._c_ready(x, s, o, bits)
                assert ready is not None and int(ready[1][0]) == -int(r)
                tile = tuple(x.shape)
                ref = K.quantize_torch(x, s, o, tile, bits)
                assert_bitwise(K.quantize_raw(x, s, o, tile, bits), ref, "ties b=%d s=%r r=%r" % (bits, s_val, r))
                assert_bitwise(K.fake_quantize_raw(x, s, o, tile, bits), K.dequantize_torch(ref, s, o, tile),
                               "fake ties b=%d s=%r r=%r" % (bits, s_val, r))
            # per channel: one odd and one even zero point in the same call
            x2 = torch.cat([x, x])
            s2, o2 = torch.tensor([s_val, s_val]), torch.tensor([3.0, 2.0])
            tile2 = (1, x.shape[1])
            assert_bitwise(K.quantize_raw(x2, s2, o2, tile2, bits), K.quantize_torch(x2, s2, o2, tile2, bits),
                           "per-channel ties b=%d" % bits)
    # The two formulas really differ here: round(0.5 - 3) = -2, round(0.5) - 3 = -3.
    one = torch.tensor([1.0])
    raw = K.quantize_raw(torch.tensor([0.5]), one, torch.tensor([3.0]), (1,), 8)
    assert raw.tolist() == [-2.0]


def test_asymmetric_quantizer_runs_in_c():
    _need_c()
    calls = []
    original = _ffqrt.quantize

    def spy(*args, **kwargs):
        calls.append(args[3])
        return original(*args, **kwargs)

    _ffqrt.quantize = spy
    try:
        q = LinearQuantizer(8, symmetric=False)
        q.quantization_range = (-0.3, 1.7)
        x = torch.randn(64, 64)
        out = q(x)
    finally:
        _ffqrt.quantize = original
    assert len(calls) == 1 and calls[0] is not None and int(calls[0][0]) != 0, calls
    assert_bitwise(out.raw_data, K.quantize_torch(x, q.scale.detach().reshape(-1), q.offset.detach().reshape(-1),
                                                  tuple(x.shape), 8), "asymmetric quantizer")


def test_c_is_used_for_float32_and_torch_for_others():
    _need_c()
    calls = []
    original = _ffqrt.quantize

    def spy(*args, **kwargs):
        calls.append(args[0].dtype)
        return original(*args, **kwargs)

    _ffqrt.quantize = spy
    try:
        q = LinearQuantizer(8)
        q.quantization_range = (-1.0, 1.0)
        x = torch.randn(64, 64)
        a = q(x)
        b = q(x.double())
        c = q(x.t())  # not contiguous: torch path
    finally:
        _ffqrt.quantize = original
    assert calls == [torch.float32], calls
    # float64 divides in double precision: a value next to a rounding tie may move one step.
    assert b.raw_data.dtype == torch.float64 and float((a.raw_data.double() - b.raw_data).abs().max()) <= 1
    assert_bitwise(c.raw_data, a.raw_data.t(), "transposed")


def test_bridge_rejects_bad_inputs_without_crashing():
    _need_c()
    x = torch.randn(4, 6)
    s = torch.ones(1)
    assert _ffqrt.quantize(x, (4, 6), s, None, 8) is not None
    assert _ffqrt.quantize(x.double(), (4, 6), s, None, 8) is None
    assert _ffqrt.quantize(x.t(), (6, 4), s, None, 8) is None
    assert _ffqrt.quantize(x, (4, 6), torch.ones(2), None, 8) is None  # wrong count
    assert _ffqrt.quantize(x, (4, 6), -s, None, 8) is None
    assert _ffqrt.quantize(x, (4, 6), s * float("nan"), None, 8) is None
    assert _ffqrt.quantize(x, (4, 6), s.double(), None, 8) is None
    assert _ffqrt.quantize(x, (4, 6), s, torch.tensor([500], dtype=torch.int32), 8) is None
    assert _ffqrt.quantize(x, (4, 6), s, torch.tensor([0.0]), 8) is None  # zp must be int32
    assert _ffqrt.quantize(x, (4, 6), s, None, 5) is None  # no 5-bit C storage
    assert _ffqrt.quantize(x, (3, 6), s, None, 8) is None  # tile does not divide
    assert _ffqrt.quantize(x, (4,), s, None, 8) is None  # rank mismatch
    assert _ffqrt.quantize(torch.empty(0), (0,), s, None, 8) is None
    assert _ffqrt.dequantize(torch.zeros(4, dtype=torch.uint8), (4,), s, None, 8) is None
    assert _ffqrt.fake_quantize(x, (1, 6), torch.ones(4), None, 8) is not None
    assert _ffqrt.isa() in ("ref", "avx2", "avxvnni", "avx512vnni", "amx")


def test_grid_mapping():
    g = _ffqrt.grid_for_tiles
    assert g((4, 6), (4, 6)) == (1, 1, 24, 0, 0, 0)
    assert g((4, 6), (1, 6)) == (1, 1, 24, 0, 0, 6)  # per channel 0 -> runs of 6
    assert g((4, 6), (4, 1)) == (1, 4, 6, 0, 0, 1)  # per channel 1
    assert g((2, 3, 4, 5), (2, 1, 4, 5)) is not None
    assert g((2, 3, 4, 5), (1, 3, 1, 5)) == (1, 6, 20, 0, 3, 5)
    assert g((2, 4, 4, 4), (1, 2, 1, 2)) is None  # four levels: torch path
    assert g((4, 6), (5, 6)) is None


def test_torch_fallback_when_library_missing():
    code = (
        "import sys, warnings, torch; sys.path.insert(0, %r)\n"
        "import fastforward as ff\n"
        "from fastforward import _ffqrt\n"
        "assert not _ffqrt.available() and _ffqrt.isa() == 'torch'\n"
        "q = ff.nn.LinearQuantizer(8); q.quantization_range = (-1.0, 1.0)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    a = q(torch.linspace(-1, 1, 11)); b = q(torch.linspace(-1, 1, 11))\n"
        "msgs = [str(x.message) for x in w if 'libffqrt' in str(x.message)]\n"
        "assert len(msgs) == 1, msgs\n"
        "print(a.raw_data.tolist())\n"
    ) % os.path.join(REPO, "runtime", "python")
    env = dict(os.environ, FFQRT_LIBRARY="none")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    q = LinearQuantizer(8)
    q.quantization_range = (-1.0, 1.0)
    assert out.stdout.strip() == str(q(torch.linspace(-1, 1, 11)).raw_data.tolist())


# --- 2. the formula, written independently ------------------------------------------------------

def _f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def _reference_quantize(x, scale, offset, shape, tile, num_bits):
    """Element by element in Python: q = clamp(round(x / s - round(o)), qmin, qmax)."""
    qmin, qmax = -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1
    grid = [d // t for d, t in zip(shape, tile)]
    flat_x = x.reshape(-1).tolist()
    s_list = scale.reshape(-1).tolist()
    o_list = None if offset is None else offset.reshape(-1).tolist()
    out = []
    for i, v in enumerate(flat_x):
        idx, rem = [], i
        for d in reversed(shape):
            idx.append(rem % d)
            rem //= d
        idx.reverse()
        t = 0
        for k, (c, size) in enumerate(zip(idx, tile)):
            t = t * grid[k] + c // size
        s = s_list[t]
        r = 0.0 if o_list is None else float(round(o_list[t]))
        if math.isnan(v):
            out.append(float(qmin))
            continue
        p = _f32(_f32(v / s) - r)
        q = float(round(p)) if not math.isinf(p) else p
        out.append(float(min(max(q, qmin), qmax)) + 0.0)
    return torch.tensor(out, dtype=torch.float32).reshape(shape)


@PROPERTY
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), num_bits=st.integers(2, 16), mode=modes)
def _check_formula(shape, seed, num_bits, mode):
    x = _random_data(shape, seed, 3.0)
    for name, gran in _granularities(shape):
        scale, offset = _params_from_data(x, gran, num_bits, mode)
        tile = _tile_of(shape, gran)
        qt = affine.quantize_per_granularity(x, scale, offset, gran, num_bits)
        expected = _reference_quantize(x, scale, offset, shape, tile, num_bits)
        assert_bitwise(qt.raw_data, expected, "quantize %s b=%d %s" % (name, num_bits, mode))
        # dequantize: (q + round(o)) * s, per element, in float32.
        deq = qt.dequantize()
        s_full = K._broadcast(scale, shape, tile).expand(K._split(shape, tile)[0]).reshape(shape)
        o_full = 0.0 if offset is None else K._broadcast(torch.round(offset), shape, tile).expand(
            K._split(shape, tile)[0]).reshape(shape)
        want = torch.tensor([_f32(_f32(q + o) * s) for q, o, s in zip(
            expected.reshape(-1).tolist(),
            (o_full.reshape(-1).tolist() if offset is not None else [0.0] * x.numel()),
            s_full.reshape(-1).tolist())]).reshape(shape)
        assert_bitwise(deq, want, "dequantize %s b=%d %s" % (name, num_bits, mode))


def test_other_float_dtypes_take_the_torch_path():
    torch.manual_seed(2)
    for dtype in (torch.float16, torch.bfloat16, torch.float64):
        x = torch.randn(40, dtype=dtype)
        s = torch.tensor(0.05, dtype=dtype)
        qt = affine.quantize_per_tensor(x, s, torch.tensor(3.0, dtype=dtype), num_bits=8)
        # x / s in the input dtype, then round(v - 3) in real arithmetic (float64 holds v - 3
        # exactly); the input dtype's subtraction would round v's low bits away (most of its
        # fraction in bfloat16)
        ref = torch.clamp(torch.round((x / s).double() - 3.0), -128, 127).to(dtype)
        assert qt.raw_data.dtype == dtype and torch.equal(qt.raw_data, ref), dtype
        assert qt.dequantize().dtype == dtype
        xr = x.clone().requires_grad_(True)
        sr = s.clone().requires_grad_(True)
        affine.quantize_per_tensor(xr, sr).dequantize().sum().backward()
        assert xr.grad.dtype == dtype and sr.grad is not None


def test_offset_rounding_is_exact():
    """round(v - round(o)) with v = fl(x / s) is rounded in real arithmetic, on the C and
    on the torch path, in the forward and in the backward's clipping decision."""
    # v = 0.49999997: v - 3 = -2.50000003 rounds to -3 (float32's v - 3 would be the tie
    # -2.5, rounding to -2: one step off). v = 0.5 exactly: v - 3 = -2.5 is a tie, which
    # rounds to even, -2 (rounding v first would give 0 - 3 = -3).
    cases = ((0.49999997, 3.0, -3.0), (0.5, 3.0, -2.0), (1.5, -1.0, 2.0), (-0.5, 1.0, -2.0),
             (0.49999997, -128.0, 128.0), (0.50000006, 5.0, -4.0))
    for dtype in (torch.float32, torch.float64):
        for v, o, want in cases:
            x = torch.tensor([v], dtype=torch.float32).to(dtype)
            s, off = torch.tensor(1.0, dtype=dtype), torch.tensor(o, dtype=dtype)
            qt = affine.quantize_per_tensor(x, s, off, num_bits=16)
            assert qt.raw_data.tolist() == [want], (dtype, v, o, qt.raw_data.tolist())
            assert affine.fake_quantize(x, s, off, num_bits=16).tolist() == [want + o], (dtype, v, o)
    # the backward clips where the forward does: 127.49999 rounds to 127, inside the 8-bit
    # grid (gradient 1); 127.5 to 128, above it (gradient 0)
    for v, inside in ((127.49999, True), (127.5, False)):
        x = torch.tensor([v + 3.0], requires_grad=True)
        affine.quantize_per_tensor(x, torch.tensor(1.0), torch.tensor(3.0)).dequantize().sum().backward()
        assert x.grad.tolist() == [1.0 if inside else 0.0], (v, x.grad)


def test_quantize_dequantize_match_the_formula():
    _check_formula()


@PROPERTY
@given(lo=st.floats(-100, 100), width=st.floats(0, 100), num_bits=st.integers(2, 16), mode=modes)
def _check_parameters_for_range(lo, width, num_bits, mode):
    hi = lo + width
    if mode == "one-sided":
        lo, hi = abs(lo), abs(lo) + width
    scale, offset = affine.parameters_for_range(torch.tensor([lo]), torch.tensor([hi]), num_bits,
                                                mode != "asymmetric", mode == "one-sided")
    assert bool((scale > 0).all()) and bool(torch.isfinite(scale).all())
    rmin, rmax = affine.quantization_range(scale, offset, num_bits)
    tol = 1e-4 * max(1.0, abs(lo), abs(hi))  # float32 arithmetic on the range ends
    if mode == "symmetric":
        assert offset is None
        assert float(rmin) <= min(lo, 0) + tol and float(rmax) >= max(hi, 0) - tol
    elif width > 1e-3:
        low = 0.0 if mode == "one-sided" else lo
        assert abs(float(rmin) - low) <= tol and abs(float(rmax) - hi) <= tol, (rmin, rmax, low, hi)


def test_parameters_for_range_properties():
    _check_parameters_for_range()
    s, o = affine.parameters_for_range(torch.tensor([0.0]), torch.tensor([2.55]), 8, True, True)
    assert float(o) == 128.0 and abs(float(s) - 0.01) < 1e-7


# --- 3. gradients -----------------------------------------------------------------------------

def test_round_ste_gradient_is_identity():
    x = torch.tensor([0.2, 1.7, -2.5], requires_grad=True)
    y = round_ste(x)
    assert y.tolist() == [0.0, 2.0, -2.0]
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]
    raises(RuntimeError, lambda: ff.quantization.ste.ste(lambda t: t.sum())(x), "shape")


def _lsq_grads(x, s, o, num_bits, g):
    """dL/dx, dL/ds, dL/do of (clamp(round(x/s - round(o))) + round(o)) * s, written out."""
    qmin, qmax = -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1
    r = 0.0 if o is None else float(round(o))
    gx, gs, go = [], 0.0, 0.0
    for xv, gv in zip(x.tolist(), g.tolist()):
        p = _f32(_f32(xv / s) - r)
        q = round(p)
        if q < qmin:
            gx.append(0.0)
            gs += gv * (qmin + r)
            go += gv * s
        elif q > qmax:
            gx.append(0.0)
            gs += gv * (qmax + r)
            go += gv * s
        else:
            gx.append(gv)
            gs += gv * (q - p)
    return gx, gs, go


def test_linear_quantizer_gradients_ste_and_lsq():
    torch.manual_seed(5)
    for symmetric in (True, False):
        q = LinearQuantizer(4, symmetric=symmetric, allow_one_sided=False)
        q.quantization_range = (-1.0, 0.6)
        x = (torch.randn(200) * 1.2).requires_grad_(True)
        g = torch.randn(200)
        (q(x).dequantize() * g).sum().backward()
        o = None if symmetric else float(q.offset.detach())
        gx, gs, go = _lsq_grads(x.detach(), float(q.scale.detach()), o, 4, g)
        assert torch.allclose(x.grad, torch.tensor(gx)), "STE with clipping mask"
        # sums of 200 float32 products: relative tolerance 1e-4
        assert abs(float(q.scale.grad) - gs) <= 1e-4 * max(1.0, abs(gs)), (float(q.scale.grad), gs)
        if not symmetric:
            assert abs(float(q.offset.grad) - go) <= 1e-4 * max(1.0, abs(go)), (float(q.offset.grad), go)
        assert any(v == 0.0 for v in gx) and any(v != 0.0 for v in gx)


def test_per_channel_gradients_reduce_per_tile():
    q = LinearQuantizer(8, symmetric=False, granularity=PerChannel(1))
    x = torch.randn(5, 3)
    q.quantization_range = (x.min(0).values * 0.5, x.max(0).values * 0.5)
    xg = x.clone().requires_grad_(True)
    q(xg).dequantize().sum().backward()
    assert q.scale.grad.shape == (3,) and q.offset.grad.shape == (3,)
    for c in range(3):
        _, gs, go = _lsq_grads(x[:, c], float(q.scale[c].detach()), float(q.offset[c].detach()), 8, torch.ones(5))
        assert abs(float(q.scale.grad[c]) - gs) <= 1e-4 * max(1.0, abs(gs))
        assert abs(float(q.offset.grad[c]) - go) <= 1e-4 * max(1.0, abs(go))


class _LegacyFn(QuantizationFunction):
    @staticmethod
    def quantize(data, num_bits, scale, offset=None):
        off = 0.0 if offset is None else offset
        return torch.clamp(round_ste(data / scale - off), -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1)

    @staticmethod
    def dequantize(quant_data, num_bits, scale, offset=None):
        return (quant_data + (0.0 if offset is None else offset)) * scale


def test_legacy_function_implicit_backward_equals_lsq():
    scale = torch.tensor(0.1, requires_grad=True)
    x = (torch.randn(100) * 0.8).requires_grad_(True)
    g = torch.randn(100)
    (_LegacyFn.apply(x, num_bits=4, scale=scale).dequantize() * g).sum().backward()
    gx, gs, _ = _lsq_grads(x.detach(), 0.1, None, 4, g)
    assert torch.allclose(x.grad, torch.tensor(gx))
    assert abs(float(scale.grad) - gs) <= 1e-4 * max(1.0, abs(gs)), (float(scale.grad), gs)


def test_legacy_bind_apply_attach_and_bound_methods():
    bound = _LegacyFn.bind(num_bits=8, scale=0.5)
    assert isinstance(bound, BoundQuantizationFunction) and bound.args == (8, 0.5)
    qt = bound(torch.tensor([1.0, -1.2]))
    assert isinstance(qt, QuantizedTensor) and qt.quant_func is _LegacyFn
    assert qt.raw_data.tolist() == [2.0, -2.0] and qt.dequantize().tolist() == [1.0, -1.0]
    assert qt.quant_args().scale == 0.5 and qt.quant_args()["num_bits"] == 8
    raises(TypeError, lambda: _LegacyFn.bind(8, 0.5, 0.0, 1))
    raises(TypeError, lambda: _LegacyFn.bind(nope=1))
    raises(TypeError, lambda: _LegacyFn.bind(scale=1.0))  # num_bits missing
    raises(TypeError, lambda: _LegacyFn())
    raises(TypeError, lambda: bound.rebind(nope=1))
    assert bound.rebind(scale=0.25).dequantize(qt.raw_data).tolist() == [0.5, -0.5]
    re = bound.rebind_and_attach(qt, scale=2.0)
    assert re.dequantize().tolist() == [4.0, -4.0] and re.raw_data.tolist() == [2.0, -2.0]
    assert _LegacyFn.attach(torch.tensor([3.0]), 8, 0.5).dequantize().tolist() == [1.5]
    assert "scale=0.5" in repr(bound)
    other = affine.quantize_per_tensor(torch.tensor([1.0]), 0.5)
    raises(ValueError, lambda: bound.rebind_and_attach(other, scale=1.0))


class _ExplicitFn(QuantizationAutogradFunction):
    @staticmethod
    def quantize(ctx, data, scale):
        ctx.save_for_backward(data)
        return torch.round(data / scale)

    @staticmethod
    def dequantize(raw, scale):
        return raw * scale

    @staticmethod
    def quant_dequant_backward(ctx, grad):
        (data,) = ctx.saved_tensors
        return grad * 3.0, None


def test_legacy_quantize_gets_the_bound_arguments_whatever_its_parameter_names():
    # Arguments are bound against dequantize's signature and quantize was called with them
    # by dequantize's names: a quantize naming its parameters otherwise (dequantize(q, n, s)
    # beside quantize(data, num_bits, scale)) or taking *args raised TypeError. It gets
    # them by name when it takes every bound name, else positionally in dequantize's order.
    x = torch.tensor([0.5, 1.0, 3.0, -7.0], requires_grad=True)

    class ShortNames(QuantizationFunction):
        @staticmethod
        def quantize(data, num_bits, scale, offset=None):
            return torch.clamp(round_ste(data / scale) - (0.0 if offset is None else offset),
                               -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1)

        @staticmethod
        def dequantize(q, n, s, o=None):
            return (q + (0.0 if o is None else o)) * s

    class Variadic(QuantizationFunction):
        @staticmethod
        def quantize(data, *args):
            return torch.clamp(round_ste(data / args[1]), -(2 ** (args[0] - 1)), 2 ** (args[0] - 1) - 1)

        @staticmethod
        def dequantize(raw, num_bits, scale):
            return raw * scale

    class Reordered(QuantizationFunction):  # same names, another order: still by name
        @staticmethod
        def quantize(data, scale, num_bits):
            return torch.clamp(round_ste(data / scale), -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1)

        @staticmethod
        def dequantize(raw, num_bits, scale):
            return raw * scale

    want = torch.tensor([0.5, 1.0, 3.0, -4.0])  # 4 bits, scale 0.5: -7 clips to -8 * 0.5
    for qt in (ShortNames.apply(x, 4, 0.5), ShortNames.apply(x, n=4, s=0.5), ShortNames.bind(4, 0.5)(x),
               Variadic.apply(x, 4, 0.5), Variadic.apply(x, num_bits=4, scale=0.5),
               Reordered.apply(x, 4, 0.5), Reordered.apply(x, scale=0.5, num_bits=4)):
        assert torch.equal(qt.dequantize(), want), (qt.quant_func.__name__, qt.dequantize())
    assert torch.equal(ShortNames.apply(x, 4, 0.5, 1.0).raw_data, torch.tensor([0.0, 1.0, 5.0, -8.0]))  # o by position
    scale = torch.tensor(0.5, requires_grad=True)
    ShortNames.apply(x, 4, scale).dequantize().sum().backward()
    assert torch.equal(x.grad, torch.tensor([1.0, 1.0, 1.0, 0.0])) and scale.grad is not None


def test_quantization_autograd_function_uses_its_backward():
    x = torch.tensor([0.26, 0.74], requires_grad=True)
    qt = _ExplicitFn.apply(x, scale=0.5)
    assert qt.raw_data.tolist() == [1.0, 1.0] and qt.dequantize().tolist() == [0.5, 0.5]
    qt.dequantize().sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_context_style_functions_and_export_mode():
    from fastforward.quantization.function import QuantizationContext, create_quantization_function

    def q(data, scale: float, bits: int = 8):
        return torch.clamp(torch.round(data / scale), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)

    def dq(raw, scale: float):
        return raw * scale

    params_type, fn_type, helper = create_quantization_function("Simple", q, dq)
    assert params_type.__name__ == "SimpleParams" and fn_type.__name__ == "Simple"
    qt = helper(torch.tensor([0.26, -3.0]), scale=0.5)
    assert qt.raw_data.tolist() == [1.0, -6.0] and qt.dequantize().tolist() == [0.5, -3.0]
    assert qt.quant_args().bits == 8 and qt.quant_func is fn_type
    def dq_unannotated(raw, scale):
        return raw

    def dq_defaulted(raw, scale: float = 1.0):
        return raw

    raises(TypeError, lambda: create_quantization_function("Bad", q, dq_unannotated), "scale")
    raises(ValueError, lambda: create_quantization_function("Bad", q, dq_defaulted), "scale")
    ctx = affine.quantization_context(torch.tensor([0.5]), None)
    assert isinstance(ctx, QuantizationContext)
    attached = ctx.attach(torch.tensor([3.0]))
    assert attached.dequantize().tolist() == [1.5]
    assert ctx.with_changes(scale=torch.tensor([2.0])).attach(torch.tensor([3.0])).dequantize().tolist() == [6.0]
    assert ctx.contiguous_parameters() is ctx and ctx.clone_parameters().quantization_params.scale is not ctx.quantization_params.scale
    with ff.export_mode(True):
        out = affine.quantize_per_tensor(torch.tensor([0.26]), 0.5)
        assert type(out) is torch.Tensor and out.tolist() == [0.5]
        raises(ff.exceptions.ExportError, lambda: affine.dynamic.quantize_per_tensor(torch.randn(3)))
    d = affine.dynamic.quantize_per_channel(torch.randn(4, 5), 0, num_bits=4, symmetric=True)
    assert isinstance(d.quant_args(), affine.StaticAffineQuantParams) and d.quant_args().scale.shape == (4,)
    blocks = affine.quantize_per_block(torch.randn(2, 8), torch.ones(8) * 0.1, None, 0, 1, 2)
    tiles = affine.quantize_by_tile(torch.randn(4, 4), torch.ones(4) * 0.1, None, (2, 2))
    assert blocks.quant_args().granularity.parameter_dimensionality((2, 8)) == 8
    assert tiles.quant_args().granularity == PerTile((2, 2))
    raises(RuntimeError, lambda: affine.quantize_per_tensor(torch.randn(3).half(), 0.1, num_bits=16), "float16")


def test_in_place_operators_become_out_of_place():
    qt = affine.quantize_per_tensor(torch.randn(3), 0.1)
    with ff.strict_quantization(False):
        y = qt
        y += 1
    assert type(y) is torch.Tensor and torch.equal(y, qt.dequantize() + 1)
    raises(QuantizationError, lambda: exec("z += 1", {"z": qt}), "add")


def test_learnable_scale_training_reduces_error():
    torch.manual_seed(0)
    q = LinearQuantizer(3, symmetric=True, allow_one_sided=False)
    x = torch.randn(2000)
    q.quantization_range = (-4 * float(x.abs().max()), 4 * float(x.abs().max()))  # poor start
    opt = torch.optim.Adam(q.parameters(), lr=0.05)

    def loss():
        return ((q(x).dequantize() - x) ** 2).mean()

    start = float(loss().detach())
    for _ in range(100):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    end = float(loss().detach())
    assert end < 0.6 * start, (start, end)


# --- 4. QuantizedTensor --------------------------------------------------------------------------

def _sample_qt(requires_grad=False):
    q = LinearQuantizer(8, symmetric=False, granularity=PerChannel(0))
    x = torch.randn(3, 5)
    q.quantization_range = (x.min(1).values, x.max(1).values)
    with torch.set_grad_enabled(requires_grad):
        qt = q(x)
    return qt.detach() if not requires_grad else qt


def _same_qt(a, b):
    assert isinstance(a, QuantizedTensor) and isinstance(b, QuantizedTensor)
    assert_bitwise(a.raw_data, b.raw_data, "raw")
    pa, pb = a.quant_args(), b.quant_args()
    assert_bitwise(pa.scale, pb.scale, "scale")
    assert_bitwise(pa.offset, pb.offset, "offset")
    assert pa.granularity == pb.granularity and pa.num_bits == pb.num_bits
    assert_bitwise(a.dequantize(), b.dequantize(), "dequantized")


def test_quantized_tensor_survives_copies_and_serialisation():
    qt = _sample_qt()
    c = qt.clone()
    _same_qt(qt, c)
    assert c.raw_data.data_ptr() != qt.raw_data.data_ptr()
    assert c.quant_args().scale.data_ptr() != qt.quant_args().scale.data_ptr()
    _same_qt(qt, qt.detach())
    _same_qt(qt, copy.deepcopy(qt))
    _same_qt(qt, qt.to("cpu"))
    _same_qt(qt, qt.cpu())
    assert qt.contiguous() is qt
    _same_qt(qt, pickle.loads(pickle.dumps(qt)))
    buf = io.BytesIO()
    torch.save({"t": qt, "list": [qt]}, buf)
    buf.seek(0)
    loaded = torch.load(buf)  # torch >= 2.6: the default weights_only unpickler
    _same_qt(qt, loaded["t"])
    _same_qt(qt, loaded["list"][0])
    d = qt.to(torch.float64)
    assert type(d) is torch.Tensor and d.dtype == torch.float64
    assert torch.equal(d, qt.dequantize().double())
    raises(ValueError, lambda: qt.to(torch.zeros(1)))
    live = _sample_qt(requires_grad=True)
    raises(RuntimeError, lambda: copy.deepcopy(live), "leaves")
    c = live.clone()
    assert c.requires_grad and c.grad_fn is not None


def test_quantized_tensor_access():
    qt = _sample_qt()
    assert type(qt.raw_data) is torch.Tensor and torch.equal(qt.int_repr(), qt.raw_data)
    assert qt.quant_func is affine.AffineQuantizationFunction
    assert qt.quantization_context.quantization_fn is affine.AffineQuantizationFunction
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert qt.is_quantized is False
    assert w and issubclass(w[0].category, UserWarning)
    assert qt.shape == (3, 5) and qt.dtype == torch.float32 and qt.dim() == 2
    assert "AffineQuantizationFunction" in repr(qt)
    applied = ff.quantized_tensor.apply_and_reattach(lambda r: r * 0, qt)
    assert isinstance(applied, QuantizedTensor) and applied.raw_data.abs().sum() == 0


def test_an_op_on_python_numbers_returns_a_python_float():
    # generated code rewrites `1 / self.num_patches` when it cannot know the operands are
    # numbers; a 0-d QuantizedTensor result would be read as its raw integer by torch.arange
    q = LinearQuantizer(8, symmetric=False)
    with ff.strict_quantization(False):
        with ff.estimate_ranges(q, ff.range_setting.running_minmax):
            first = ff.nn.functional.div(1, 3, output_quantizer=q)
        assert type(first) is float and not q.has_uninitialized_params  # the quantizer saw it
        step = ff.nn.functional.div(1, 3, output_quantizer=q)
        expected = q(torch.tensor(1 / 3)).dequantize().item()
        assert type(step) is float and step == expected and step != 1 / 3
        assert torch.equal(torch.arange(0.0, 1.0, step), torch.arange(0.0, 1.0, expected))
        halves = ff.nn.functional.floor_divide(7, 2, output_quantizer=q)  # ints pass quantizers
        assert type(halves) is int and halves == 3
        # tensors are unchanged: a QuantizedTensor, also 0-d
        assert isinstance(ff.nn.functional.div(torch.tensor(1.0), 3, output_quantizer=q), QuantizedTensor)


def test_strict_mode_and_fallback():
    qt = _sample_qt()
    assert ff.get_strict_quantization() is True
    raises(QuantizationError, lambda: qt + 1, "add", "dispatcher.register")
    raises(QuantizationError, lambda: torch.relu(qt), "relu")
    raises(QuantizationError, lambda: qt.sum(), "sum")
    with ff.strict_quantization(False):
        assert torch.equal(qt + 1, qt.dequantize() + 1)
        assert type(qt.sum()) is torch.Tensor
    assert ff.get_strict_quantization() is True
    assert torch.equal(qt.float(), qt.dequantize())  # casts are kernels, even strict
    assert qt.long().dtype == torch.int64
    raises(NotImplementedError, lambda: qt.add_(1), "add_", "dispatcher.register")
    assert torch.equal(qt[torch.tensor([0])].dequantize(), qt.dequantize()[torch.tensor([0])])  # per-channel
    assert isinstance(qt[0], QuantizedTensor)
    assert isinstance(qt.view(3, 5), QuantizedTensor)


def test_per_tensor_shape_ops_keep_the_quantization():
    qt = affine.quantize_per_tensor(torch.randn(2, 3, 4), 0.1, torch.tensor(3.0))
    ops = [lambda t: t.view(6, 4), lambda t: t.reshape(-1), lambda t: t.transpose(0, 1),
           lambda t: t[0, 1:], lambda t: torch.reshape(t, (4, 6)), lambda t: t.unsqueeze(0),
           lambda t: t.split(1)[1], lambda t: t.permute(2, 0, 1), lambda t: t.flatten(1)]
    for op in ops:
        out = op(qt)
        assert isinstance(out, QuantizedTensor) and out.quant_args() is qt.quant_args()
        assert torch.equal(out.dequantize(), op(qt.dequantize()))
    raises(TypeError, lambda: qt.view(torch.int32), "view(dtype)")
    per_channel = _sample_qt()
    raises(QuantizationError, lambda: per_channel.reshape(-1), "reshape")


def test_mul_by_number_and_cat_kernels():
    raw = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    qt = affine.quantization_context(torch.tensor(0.5), torch.tensor(1.0), num_bits=8).attach(raw)
    doubled = qt * 3
    assert isinstance(doubled, QuantizedTensor) and torch.equal(doubled.raw_data, qt.raw_data)
    assert torch.allclose(doubled.dequantize(), qt.dequantize() * 3)
    doubled.dequantize().sum().backward()
    assert raw.grad.tolist() == [3.0, 3.0, 3.0]
    via_functional = ff.nn.functional.mul(qt, 2.0)  # strict, no output quantizer: the kernel
    assert isinstance(via_functional, QuantizedTensor)
    assert torch.allclose(via_functional.dequantize(), qt.dequantize() * 2)
    other = affine.quantization_context(torch.tensor(0.5), torch.tensor(1.0), num_bits=8).attach(torch.tensor([7.0]))
    joined = torch.cat([qt.detach(), other])
    assert isinstance(joined, QuantizedTensor) and joined.raw_data.tolist() == [1.0, -2.0, 3.0, 7.0]
    different = affine.quantize_per_tensor(torch.tensor([1.0]), 0.25)
    raises(QuantizationError, lambda: torch.cat([qt.detach(), different]), "cat")
    # torch's other ways to name the dimension: NumPy's `axis`, `dim` by keyword, `tensors=`
    grid = affine.quantize_per_tensor(torch.arange(6.0).reshape(2, 3), 0.5)
    head = grid[:, :1]
    for call in (lambda: torch.cat([head, grid], axis=1), lambda: torch.cat([head, grid], dim=1),
                 lambda: torch.cat([head, grid], 1), lambda: torch.cat(tensors=[head, grid], dim=-1)):
        out = call()
        assert isinstance(out, QuantizedTensor) and out.shape == (2, 4)
        assert torch.equal(out.dequantize(), torch.cat([head.dequantize(), grid.dequantize()], 1))


def test_dispatcher_registration_and_priority():
    qt = _sample_qt()
    seen = []

    def kernel(*args, **kwargs):
        seen.append("k1")
        return "k1"

    with dispatcher.register("sum", None, kernel):
        assert qt.sum() == "k1"
        hook = dispatcher.register("sum", lambda *a, **k: True, lambda *a, **k: "k2")
        assert qt.sum() == "k2"  # most recent first within a priority
        hook.remove()
        with dispatcher.register("sum", None, lambda *a, **k: "low", dispatcher.DispatcherPriority.FALLBACK):
            assert qt.sum() == "k1"
    raises(QuantizationError, lambda: qt.sum())
    p = dispatcher.Predicate(lambda *a, **k: True)
    n = ~p
    assert (p & n)() is False and (p | n)() is True and "Predicate" in repr(p)

    @dispatcher.register("linear", dispatcher.Predicate(lambda *a, **k: k.get("output_quantizer") == "marker"))
    def fake_linear(**kwargs):
        return sorted(kwargs)

    try:
        out = ff.nn.functional.linear(qt, qt, None, output_quantizer="marker")
        assert out == ["bias", "input", "output_quantizer", "strict_quantization", "weight"]
    finally:
        for entry in list(dispatcher._registry["linear"]):
            if entry[2].fn is fake_linear:
                dispatcher._registry["linear"].remove(entry)


def test_functional_ops_under_strict_quantization():
    qt = _sample_qt()
    w = affine.quantize_per_tensor(torch.randn(4, 5), 0.05)
    out_q = LinearQuantizer(8)
    out_q.quantization_range = (-5.0, 5.0)
    y = ff.nn.functional.linear(qt, w, output_quantizer=out_q)
    assert isinstance(y, QuantizedTensor)
    raises(QuantizationError, lambda: ff.nn.functional.linear(qt, w), "linear", "output_quantizer")
    raises(QuantizationError, lambda: ff.nn.functional.linear(qt.dequantize(), w, output_quantizer=out_q),
           "'input'")
    plain = ff.nn.functional.linear(qt.dequantize(), w.dequantize(), strict_quantization=False)
    assert torch.equal(plain, torch.nn.functional.linear(qt.dequantize(), w.dequantize()))


# --- 5. quantizers and bad input ------------------------------------------------------------------

def test_linear_quantizer_lazy_parameters_and_range():
    q = LinearQuantizer(8)
    assert q.has_uninitialized_params and q.quantization_range == (None, None)
    raises(ValueError, lambda: q(torch.randn(3)), "LinearQuantizer", "uninitialized", "estimate_ranges")
    q.quantization_range = (torch.tensor(-2.0), torch.tensor(3.0))
    lo, hi = q.quantization_range
    lo, hi = float(lo.detach()), float(hi.detach())
    assert abs(lo + 3.0 * 128 / 127) < 1e-5 and abs(hi - 3.0) < 1e-5
    assert q.symmetric and "offset" in dict(q.named_buffers())
    q.quantization_range = (0.0, 2.55)  # one-sided: offset buffer becomes 128
    assert float(q.offset) == 128.0
    raises(ValueError, lambda: setattr(q, "quantization_range", 1.0), "2-tuple")
    raises(ValueError, lambda: setattr(q, "quantization_range", (1.0, 2.0, 3.0)), "2-tuple")
    assert set(q.state_dict()) == {"scale", "offset"}
    q.reset_parameters()
    assert q.has_uninitialized_params
    asym = LinearQuantizer(8, symmetric=False)
    asym.quantization_range = (-1.0, 3.0)
    assert not asym.symmetric and isinstance(asym.offset, torch.nn.Parameter)
    sym = LinearQuantizer(8, allow_one_sided=False)
    sym.quantization_range = (-1.0, 1.0)
    assert sym.offset is None and "offset" not in sym.state_dict()
    pc = LinearQuantizer(8, granularity=PerChannel(0))
    x = torch.randn(4, 7)
    pc.quantization_range = (x.min(1).values, x.max(1).values)
    assert pc.scale.shape == (4,)
    op = pc.operator_for_range(x.min(1).values * 2, x.max(1).values * 2, x.shape)
    assert isinstance(op(x), QuantizedTensor)
    assert "symmetric=True" in repr(pc) and "PerChannel" in repr(pc)


def test_quantizer_modules_copy_save_and_load():
    m = torch.nn.Module()
    m.q = LinearQuantizer(8, symmetric=False, granularity=PerChannel(0))
    m.lazy = LinearQuantizer(4)
    m.stub = QuantizerStub("activation/input")
    x = torch.randn(3, 4)
    m.q.quantization_range = (x.min(1).values, x.max(1).values)
    expected = m.q(x).raw_data
    m2 = copy.deepcopy(m)
    assert torch.equal(m2.q(x).raw_data, expected) and m2.q.scale is not m.q.scale
    assert m2.lazy.has_uninitialized_params and m2.stub.quant_metadata.input_quantizer
    m2.lazy.quantization_range = (-1.0, 1.0)
    assert m.lazy.has_uninitialized_params
    buf = io.BytesIO()
    torch.save(m, buf)
    buf.seek(0)
    kwargs = {"weights_only": False} if "weights_only" in torch.load.__code__.co_varnames else {}
    m3 = torch.load(buf, **kwargs)
    assert torch.equal(m3.q(x).raw_data, expected) and m3.lazy.has_uninitialized_params
    fresh = LinearQuantizer(8, symmetric=False, granularity=PerChannel(0))
    fresh.load_state_dict(m.q.state_dict())
    assert not fresh.has_uninitialized_params and torch.equal(fresh(x).raw_data, expected)


def test_clear_errors_for_bad_input():
    for bits in (1, 65, 0, "8", 2.5, True):
        raises(ValueError, lambda b=bits: LinearQuantizer(b), "LinearQuantizer", "num_bits", repr(bits))
    model = torch.nn.Module()
    model.encoder = torch.nn.Module()
    model.encoder.q = LinearQuantizer(8, granularity=PerChannel(3))
    with estimate_ranges(model, RunningMinMaxRangeEstimator):
        pass  # records the quantizers' paths
    model.encoder.q.quantization_range = (-1.0, 1.0)
    raises(ValueError, lambda: model.encoder.q(torch.randn(2, 3)), "encoder.q", "dimension 3")
    q = LinearQuantizer(8)
    q.quantization_range = (-1.0, 1.0)
    # integer and bool tensors (position ids, masks that generated code passes through a
    # quantizer) come back unchanged; quantizing a bool tensor explicitly is the error (an
    # integer one quantizes, runtime-spec 3.4: tests/python/test_spec_core.py)
    ids, mask = torch.arange(4), torch.ones(3, dtype=torch.bool)
    assert q(ids) is ids and q(mask) is mask
    # so do sparse float tensors (torch_geometric's adjacency), in calibration too
    adj = torch.sparse_coo_tensor(torch.tensor([[0, 1], [1, 0]]), torch.tensor([0.5, 2.0]), (2, 2))
    assert q(adj) is adj
    if hasattr(torch, "sparse_csr_tensor"):
        csr = adj.to_sparse_csr() if hasattr(adj, "to_sparse_csr") else None
        assert csr is None or q(csr) is csr
    fresh = LinearQuantizer(8)
    with estimate_ranges(fresh, RunningMinMaxRangeEstimator):
        assert fresh(adj) is adj
    raises(TypeError, lambda: affine.quantize_per_tensor(mask, 0.5, None, 8), "torch.bool")
    raises(TypeError, lambda: q.quantize(mask), "torch.bool")
    for bad in (0.0, -0.0, float("nan"), float("inf"), -float("inf")):
        with torch.no_grad():
            q.scale.fill_(bad)
        raises(ValueError, lambda: q(torch.randn(3)), "LinearQuantizer", "scale", repr(bad))
    raises(ValueError, lambda: affine.quantize_per_tensor(torch.randn(3), 0.0), "scale")
    raises(ValueError, lambda: affine.quantize_per_channel(torch.randn(3, 4), torch.ones(3)), "4 tiles")


def test_negative_scales_quantize_by_the_formulas():
    """A negative scale is taken, as FastForward takes it (Adam steps a small trained scale
    below zero and back): raw = clamp(round(x / s - round(o))), real = (raw + round(o)) * s on
    the torch path (libffqrt's kernels take positive scales; a negative one is not handed to
    them), gradients included; a symmetric quantizer then gives the real values of |s| inside
    the grid (rounding half to even is odd-symmetric). QAT with Adam at lr 1e-3 keeps running."""
    torch.manual_seed(3)
    x = torch.randn(4, 37)
    for granularity, shape in ((PerTensor(), (1,)), (PerChannel(0), (4,))):
        for offset in (None, 5.0):
            s = -(torch.rand(shape) * 0.05 + 0.01)
            o = None if offset is None else torch.full(shape, offset)
            raw = affine.quantize_static(x, s, o, granularity, 8)[0]
            col = s.reshape(-1, 1) if s.numel() > 1 else s
            ocol = 0.0 if o is None else (o.reshape(-1, 1) if o.numel() > 1 else o)
            want = torch.clamp(torch.round(x / col - torch.round(torch.as_tensor(ocol))), -128, 127)
            assert torch.equal(raw, want), (granularity, offset)
            real = affine.dequantize_static(raw, affine.StaticAffineQuantParams(
                scale=s, offset=o, granularity=granularity, num_bits=8))
            assert torch.allclose(real, (want + torch.round(torch.as_tensor(ocol))) * col), (granularity, offset)
            if offset is None:  # symmetric: the same real values as |s| inside the grid (its
                # ends differ: -128 is a level, +128 is not)
                positive = affine.StaticAffineQuantParams(scale=-s, offset=None, granularity=granularity, num_bits=8)
                pos = affine.dequantize_static(affine.quantize_static(x, -s, None, granularity, 8)[0], positive)
                inside = want.abs() < 127
                assert bool(inside.any()) and torch.equal(real[inside], pos[inside]), granularity
    q = LinearQuantizer(8, symmetric=True, allow_one_sided=False)
    q.quantization_range = (-1.0, 1.0)
    with torch.no_grad():
        q.scale.neg_()
    xg = torch.randn(50, requires_grad=True)
    out = q(xg).dequantize()
    out.sum().backward()
    assert xg.grad is not None and q.scale.grad is not None and bool(torch.isfinite(q.scale.grad).all())
    # a small QAT loop: Adam moves the weight scales below zero within a few steps
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    ff.quantize_model(model)
    for layer in (model[0], model[2]):
        layer.weight_quantizer = LinearQuantizer(8, symmetric=True, allow_one_sided=False, granularity=PerChannel(0))
        layer.input_quantizer = LinearQuantizer(8, symmetric=False)
    data, target = torch.randn(64, 16), torch.randint(0, 4, (64,))
    with torch.no_grad(), ff.strict_quantization(False), estimate_ranges(model, RunningMinMaxRangeEstimator):
        model(data)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses, negative = [], 0
    for _ in range(60):
        with ff.strict_quantization(False):
            out = model(data)
        out = out.dequantize() if isinstance(out, QuantizedTensor) else out
        loss = torch.nn.functional.cross_entropy(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        negative = max(negative, sum(int((m.scale < 0).sum()) for m in model.modules() if isinstance(m, LinearQuantizer)))
    assert negative > 0, "the loop never made a scale negative: it does not test this"
    assert losses[-1] < losses[0], losses


def test_range_of_permuted_and_non_finite_data():
    # tile_minmax reduces a tensor in its memory order (one pass) and looks for NaN / Inf only
    # when the extremes are not finite: the same ranges as the element-wise definition, on
    # channels_last, transposed and sliced tensors, per tensor and per channel, with and
    # without non-finite values (each counted in the warning)
    from fastforward.range_setting.common import storage_order, tile_minmax

    torch.manual_seed(0)
    base = torch.randn(2, 5, 6, 7)
    shapes = ((base, True), (base.to(memory_format=torch.channels_last), True), (base.transpose(1, 3), True),
              (base[:, :, 1:5], False), (base.permute(3, 0, 2, 1), True))
    for x, dense in shapes:
        for poison in (None, float("nan"), float("inf"), -float("inf")):
            data = x.clone(memory_format=torch.preserve_format)
            if poison is not None:
                for flat in (3, 17):  # the elements numbered so in the tensor's own index order
                    at = []
                    for size in reversed(data.shape):
                        flat, i = divmod(flat, size)
                        at.insert(0, i)
                    data[tuple(at)] = poison
            finite = torch.isfinite(data)
            for granularity, dim in ((ff.PerTensor(), None), (ff.PerChannel(1), 1)):
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    lo, hi = tile_minmax(data, granularity)
                counted = [str(m.message) for m in w if "non-finite" in str(m.message)]
                assert bool(counted) == (poison is not None), counted
                if poison is not None:
                    assert "ignored 2 non-finite" in counted[0], counted
                big = torch.tensor(float("inf"))
                if dim is None:
                    want_lo = torch.where(finite, data, big).min().reshape(1)
                    want_hi = torch.where(finite, data, -big).max().reshape(1)
                else:
                    moved = data.movedim(dim, 0).reshape(data.shape[dim], -1)
                    ok = finite.movedim(dim, 0).reshape(data.shape[dim], -1)
                    want_lo = torch.where(ok, moved, big).amin(1)
                    want_hi = torch.where(ok, moved, -big).amax(1)
                assert torch.equal(lo, want_lo) and torch.equal(hi, want_hi), (x.stride(), poison, dim)
        assert storage_order(x).is_contiguous() == dense  # a slice with gaps stays as it is


def test_nan_inf_constant_zero_and_empty_data():
    # NaN is ignored with a warning; an infinite minimum or maximum is the running min-max
    # estimator's NotImplementedError (the smoothed one and the grid search ignore it too)
    q = LinearQuantizer(8, symmetric=False)
    x = torch.tensor([1.0, float("nan"), -2.0, float("nan"), 0.5])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with estimate_ranges(q, RunningMinMaxRangeEstimator):
            q(x)
    assert any("2 non-finite" in str(m.message) for m in w), [str(m.message) for m in w]
    lo, hi = q.quantization_range
    assert abs(float(lo) + 2.0) < 1e-5 and abs(float(hi) - 1.0) < 1e-5
    for poison in (float("inf"), -float("inf")):
        for granularity in (PerTensor(), PerChannel(0)):
            r = LinearQuantizer(8, symmetric=False, granularity=granularity)
            x = torch.tensor([[1.0, poison, -2.0], [0.5, 0.25, 3.0]])
            with estimate_ranges(r, RunningMinMaxRangeEstimator):
                raises(NotImplementedError, lambda: r(x), "infinite")
    s = LinearQuantizer(8, symmetric=False)
    x = torch.tensor([1.0, float("nan"), -2.0, float("inf"), -float("inf"), 0.5])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with estimate_ranges(s, ff.range_setting.SmoothedMinMaxRangeEstimator):
            s(x)
    assert any("3 non-finite" in str(m.message) for m in w), [str(m.message) for m in w]
    lo, hi = s.quantization_range
    assert abs(float(lo) + 2.0) < 1e-5 and abs(float(hi) - 1.0) < 1e-5
    for data in (torch.zeros(10), torch.full((10,), 3.0), torch.full((10,), -3.0)):
        for symmetric in (True, False):
            c = LinearQuantizer(8, symmetric=symmetric)
            with estimate_ranges(c, RunningMinMaxRangeEstimator):
                out = c(data)
            assert bool((c.scale > 0).all()) and bool(torch.isfinite(c.scale).all())
            assert torch.allclose(out.dequantize(), data, atol=1e-3), (data[0], symmetric)
    e = q(torch.empty(0, 3))
    assert isinstance(e, QuantizedTensor) and e.shape == (0, 3) and e.dequantize().shape == (0, 3)


def test_dynamic_linear_quantizer():
    q = DynamicLinearQuantizer(8, granularity=PerChannel(0))
    x = torch.randn(3, 50) * torch.tensor([[1.0], [10.0], [100.0]])
    qt = q(x)
    assert isinstance(qt, QuantizedTensor)
    err = (qt.dequantize() - x).abs().max(1).values
    step = (x.max(1).values - x.min(1).values) / 255
    assert bool((err <= step).all())
    raises(QuantizationError, lambda: q(torch.empty(0)))
    assert not isinstance(q, ff.range_setting.RangeSettable)
    raises(TypeError, lambda: estimate_ranges(q, RunningMinMaxRangeEstimator).__enter__(), "RangeSettable")


def test_quantizing_a_quantized_tensor_requantizes_its_values():
    first = LinearQuantizer(8, symmetric=False)
    first.quantization_range = (-4.0, 4.0)
    second = LinearQuantizer(4, symmetric=False)
    second.quantization_range = (-4.0, 4.0)
    x = torch.linspace(-4, 4, 50)
    twice = second(first(x))
    once = second(first(x).dequantize())
    assert_bitwise(twice.raw_data, once.raw_data, "requantized")
    assert float((twice.dequantize() - x).abs().max()) <= float(second.scale) + float(first.scale)


def test_overrides_and_stub():
    stub = QuantizerStub("parameter/weight")
    assert stub.is_stub() and stub.quant_metadata.parameter_quantizer and stub.quant_metadata.weight_quantizer
    x = torch.randn(2)
    assert stub(x) is x
    q = LinearQuantizer(8)
    q.quantization_range = (-1.0, 1.0)
    order = []

    def first(quantizer, nxt, args, kwargs):
        order.append("first")
        return nxt(*args, **kwargs)

    def second(quantizer, nxt, args, kwargs):
        order.append("second")
        return nxt(*args, **kwargs)

    h1, h2 = q.register_override(first), q.register_override(second)
    q(x)
    assert order == ["second", "first"] and list(q.overrides) == [first, second]
    with h2:
        pass
    assert list(q.overrides) == [first]
    h1.remove()
    assert list(q.overrides) == []


# --- 6. range setting ---------------------------------------------------------------------------

def test_running_minmax_over_batches_per_channel():
    q = LinearQuantizer(8, symmetric=False, granularity=PerChannel(1))
    batches = [torch.randn(5, 3) * (i + 1) for i in range(4)]
    with estimate_ranges([q], RunningMinMaxRangeEstimator):
        for b in batches:
            q(b)
    assert list(q.overrides) == []
    allx = torch.cat(batches)
    lo, hi = q.quantization_range
    assert torch.allclose(lo, allx.min(0).values, atol=1e-5) and torch.allclose(hi, allx.max(0).values, atol=1e-5)


def test_smoothed_batch_and_expavg_minmax():
    data = [torch.tensor([-1.0, 1.0]), torch.tensor([-3.0, 5.0])]

    def run(estimator):
        q = LinearQuantizer(8, symmetric=False)
        with estimate_ranges(q, estimator):
            for d in data:
                q(d)
        return [float(v) for v in q.quantization_range]

    def close(a, b):
        return all(abs(x - y) < 1e-4 for x, y in zip(a, b))

    assert close(run(BatchMinMax()), [-3.0, 5.0])
    assert close(run(SmoothedMinMaxRangeEstimator(gamma=0.5)), [-2.0, 3.0])
    assert close(run(ExpAvgMinMax(momentum=0.75)), [-1.5, 2.0])
    raises(ValueError, lambda: estimate_ranges(LinearQuantizer(8), BatchMinMax(), 1).__enter__())


def test_estimate_ranges_cleans_up_on_error_and_skips():
    q = LinearQuantizer(8)
    try:
        with estimate_ranges(q, RunningMinMaxRangeEstimator):
            raise KeyError("boom")
    except KeyError:
        pass
    assert list(q.overrides) == []
    model = torch.nn.ModuleList([LinearQuantizer(8), DynamicLinearQuantizer(8), QuantizerStub()])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with estimate_ranges(model, RunningMinMaxRangeEstimator, skip_unsupported_quantizers=True):
            for quantizer in model:
                quantizer(torch.randn(4))
    assert any("DynamicLinearQuantizer" in str(m.message) for m in w)
    assert not model[0].has_uninitialized_params


def test_mse_grid_ignores_outliers():
    torch.manual_seed(1)
    x = torch.randn(4000)
    x[0] = 40.0
    q = LinearQuantizer(4, symmetric=True, allow_one_sided=False)
    with estimate_ranges(q, MinErrorGridRangeEstimator(num_candidates=40)):
        q(x)
    mm = LinearQuantizer(4, symmetric=True, allow_one_sided=False)
    with estimate_ranges(mm, RunningMinMaxRangeEstimator):
        mm(x)
    err = lambda qz: float(((qz(x).dequantize() - x) ** 2).mean())  # noqa: E731
    assert float(q.scale) < float(mm.scale) and err(q) < err(mm)


def _swap_tensor_stubs(model, x):
    """Replace every stub that sees a float tensor by an 8-bit LinearQuantizer."""
    seen = set()
    hooks = [
        m.register_forward_hook(
            lambda mod, inp, out: seen.add(mod)
            if isinstance(inp[0], torch.Tensor) and inp[0].is_floating_point() else None)
        for m in model.modules() if isinstance(m, QuantizerStub)
    ]
    with ff.strict_quantization(False):
        model(x)
    for hook in hooks:
        hook.remove()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if child in seen:
                setattr(parent, name, LinearQuantizer(8, symmetric=False))
    return len(seen)


def test_generated_models_calibrate_and_run_quantized():
    sys.path.insert(0, HERE)
    import ffq_float_models as float_models
    import ffq_quantized_models  # noqa: F401 - registers the generated classes

    torch.manual_seed(0)
    linear = float_models.MyLinear(6, 5)
    x = torch.randn(8, 6)
    expected = linear(x)
    ff.quantize_model(linear)
    assert _swap_tensor_stubs(linear, x) == 4
    with estimate_ranges(linear, RunningMinMaxRangeEstimator):
        linear(x)
    out = linear(x)  # strict: every functional operand is a QuantizedTensor
    assert isinstance(out, QuantizedTensor)
    # 8-bit quantization of input, weight, bias and output: a few output steps at most.
    assert float((out.dequantize() - expected).abs().max()) < 0.05 * float(expected.abs().max())

    net = float_models.TinyNet()
    x = torch.randn(3, 4, 8, 8)
    expected = net(x)
    ff.quantize_model(net)
    assert _swap_tensor_stubs(net, x) > 10
    with ff.strict_quantization(False):  # TinyNet calls Tensor.abs(), which has no kernel
        with estimate_ranges(net, RunningMinMaxRangeEstimator):
            net(x)
        out = net(x)
    out = out.dequantize() if isinstance(out, QuantizedTensor) else out
    assert float((out - expected).abs().max()) < 0.1 * float(expected.abs().max())


def test_public_names_exist():
    for name in ("QuantizedTensor", "estimate_ranges", "PerTensor", "PerChannel", "PerBlock", "PerTile",
                 "strict_quantization", "set_strict_quantization", "get_strict_quantization"):
        assert hasattr(ff, name), name
    assert ff.QuantizedTensor is ff.quantized_tensor.QuantizedTensor
    assert ff.estimate_ranges is ff.range_setting.estimate_ranges
    from fastforward.range_setting.minmax import RunningMinMaxRangeEstimator as R  # noqa: F401
    from fastforward.common import ensure_tensor
    t = torch.ones(1)
    assert ensure_tensor(t) is t and ensure_tensor(2.0).item() == 2.0



def test_submodules_and_switches_of_the_top_level_namespace():
    import importlib
    for name in ("dataclasses", "logging_utils", "testing", "type_common", "random", "_quantizer_impl",
                 "cache", "annotate_operator_metadata", "sdpa_torch_fallback_allowed"):
        assert hasattr(ff, name), name
    assert ff.random is importlib.import_module("fastforward.quantization.random")
    assert ff.quantization.random is ff.random
    assert ff.autoquant.autoquantize is ff.autoquantize
    for flag, default in (("sdpa_torch_fallback_allowed", True), ("compiled_quant_funcs", False)):
        get, set_ = getattr(ff.flags, "get_" + flag), getattr(ff.flags, "set_" + flag)
        assert get() is default, flag
        with getattr(ff.flags, flag)(not default):
            assert get() is (not default), flag
        assert get() is default, flag
        set_(not default)  # a bare call changes the flag for good
        assert get() is (not default), flag
        set_(default)
    assert ff.get_sdpa_torch_fallback_allowed is ff.flags.get_sdpa_torch_fallback_allowed
    replaced = ff.dataclasses.replace_fields(affine.StaticAffineQuantParams(torch.tensor(1.0), None, 8), num_bits=4)
    assert replaced.num_bits == 4
    assert ff.logging_utils.get_logger("x").name == "fastforward.x"


def test_random_quantized_is_a_quantized_normal_sample():
    from fastforward.quantization.random import random_quantized
    torch.manual_seed(0)
    qt = random_quantized((64, 8), scale=0.25, num_bits=4)
    assert isinstance(qt, QuantizedTensor) and qt.shape == (64, 8)
    raw = qt.raw_data
    assert torch.equal(raw, raw.round()) and float(raw.min()) >= -8 and float(raw.max()) <= 7
    assert float(raw.std()) > 1.5  # standard normal / 0.25 spreads over several steps
    qc = random_quantized((3, 5), scale=torch.full((5,), 0.1), offset=2.0, granularity=PerChannel(1))
    params = qc.quant_args()
    assert params.granularity == PerChannel(1) and params.offset.tolist() == [2.0] * 5


def test_affine_view_to_dtype_refused_topk_and_take_along_dim_stay_quantized():
    x = torch.randn(4, 6)
    qt = affine.quantize_per_tensor(x, 0.05)
    raises(TypeError, lambda: qt.view(torch.int32), "view(dtype)")
    raises(TypeError, lambda: qt.view(dtype=torch.int32), "view(dtype)")
    values, indices = torch.topk(qt, 2, dim=1)
    assert isinstance(values, QuantizedTensor) and type(indices) is torch.Tensor
    expected = torch.topk(qt.dequantize(), 2, dim=1)
    assert torch.equal(values.dequantize(), expected.values) and torch.equal(indices, expected.indices)
    assert isinstance(qt.topk(1).values, QuantizedTensor)
    idx = torch.tensor([[0], [5], [2], [1]])
    taken = torch.take_along_dim(qt, idx, 1)
    assert isinstance(taken, QuantizedTensor)
    assert torch.equal(taken.dequantize(), torch.take_along_dim(qt.dequantize(), idx, 1))


def test_setitem_copies_raw_data_on_the_same_grid_only():
    torch.manual_seed(0)
    x = torch.randn(4, 6)
    qt = affine.quantize_per_tensor(x, 0.05, torch.tensor(2.0))
    expected = qt.dequantize().clone()
    row = qt[0]  # a view: writing it writes qt
    row[..., 1:6:2] = qt[2, ..., 1:6:2]
    expected[0, 1:6:2] = expected[2, 1:6:2]
    assert torch.equal(qt.dequantize(), expected)
    # another tensor on an equal grid (equal scale and offset tensors, not the same objects)
    other = affine.quantize_per_tensor(torch.randn(6), 0.05, torch.tensor(2.0))
    qt[3] = other
    assert torch.equal(qt[3].dequantize(), other.dequantize())
    # anything else would have to be quantized again: no kernel, as for every in-place change
    for value in (affine.quantize_per_tensor(torch.randn(6), 0.1, torch.tensor(2.0)),
                  affine.quantize_per_tensor(torch.randn(6), 0.05, torch.tensor(1.0)),
                  1.0, torch.ones(6)):
        raises(NotImplementedError, lambda: qt.__setitem__(1, value), "__setitem__", "dispatcher.register")
    qc = affine.quantize_per_channel(torch.randn(3, 5), torch.full((5,), 0.1), None, 1)
    raises(NotImplementedError, lambda: qc.__setitem__(0, qc[1]), "__setitem__")  # per-channel: none


def test_per_channel_indexing_slices_scale_and_offset():
    torch.manual_seed(0)
    x = torch.randn(4, 6)
    scale, offset = torch.rand(6) + 0.01, torch.randn(6).round()
    qc = affine.quantize_per_channel(x, scale, offset, axis=-1)
    cases = [
        ((slice(None), slice(1, 3)), PerChannel(1), [1, 2]),
        (0, PerChannel(0), list(range(6))),
        ((Ellipsis, 2), PerTensor(), [2]),
        ((None, slice(None), slice(None, None, 2)), PerChannel(2), [0, 2, 4]),
        (slice(1, 3), PerChannel(1), list(range(6))),
    ]
    for key, granularity, channels in cases:
        part = qc[key]
        assert isinstance(part, QuantizedTensor), key
        params = part.quant_args()
        assert params.granularity == granularity, (key, params.granularity)
        assert torch.equal(params.scale, scale[channels]) and torch.equal(params.offset, offset[channels]), key
        assert torch.equal(part.dequantize(), qc.dequantize()[key]), key
    # two channel dims: parameters are row-major over (dim 0, dim 2)
    data = torch.randn(3, 4, 5)
    q2 = affine.quantize_per_granularity(data, torch.rand(15) + 0.01, torch.zeros(15), PerChannel((0, 2)))
    for key in [(1,), (slice(None), 2, slice(1, 4)), (Ellipsis, 0), (slice(0, 2), None, slice(None), 3)]:
        assert torch.equal(q2[key].dequantize(), q2.dequantize()[key]), key
    assert q2[:, 2, 1:4].quant_args().granularity == PerChannel((0, 1))
    # any other key gathers the picked elements' parameters (was NotImplementedError)
    part = qc[torch.tensor([0, 1])]
    assert part.quant_args().granularity == PerChannel(1) and torch.equal(part.quant_args().scale, scale)
    assert torch.equal(part.dequantize(), qc.dequantize()[torch.tensor([0, 1])])


def test_any_index_of_a_tiled_tensor_gathers_the_parameters_of_the_elements_it_picks():
    # Per-channel tensors took ints, slices, None and ... only, per-block and per-tile ones no
    # key at all: a list, tensor or mask raised NotImplementedError. Each element's tile
    # number is now indexed like the data; the output dims where it varies are the channels.
    torch.manual_seed(0)
    mask = torch.randn(4, 6) > 0
    keys = [[0, 3], torch.tensor([2, 0, 2]), mask, (slice(None), [5, 0, 5]), (slice(1, 3), [0, 5]),
            ([0, 1], [2, 3]), (1, [0, 2]), (torch.tensor([[0, 1], [2, 3]]),), (slice(None), mask[0]),
            ([], slice(None)), torch.tensor(2), (slice(None), None, torch.tensor([1, 4])), (Ellipsis, [3])]
    granularities = [(PerChannel(0), 4), (PerChannel(1), 6), (PerChannel((0, 1)), 24), (PerTile((2, 3)), 4),
                     (PerTile((4, 1)), 6), (PerBlock(1, 3, 0), 8), (PerBlock(1, 2), 3)]
    for granularity, count in granularities:
        quantizer = LinearQuantizer(8, granularity=granularity, symmetric=False)
        quantizer.quantization_range = (torch.linspace(-3, -1, count), torch.linspace(1, 3, count))
        x = (torch.randn(4, 6) * 2).requires_grad_()
        qt = quantizer(x)
        for key in keys + [slice(1, 3), (slice(None), 2), 0]:
            part = qt[key]
            assert isinstance(part, QuantizedTensor), (granularity, key)
            assert torch.equal(part.dequantize(), qt.dequantize()[key]), (granularity, key)
            assert torch.equal(part.raw_data, qt.raw_data[key]), (granularity, key)
    # the parameters: channels in the order the key picks them, per-tensor when one is left
    qc = affine.quantize_per_channel(torch.randn(4, 6), torch.rand(6) + 0.01, torch.randn(6).round(), axis=1)
    params = qc[:, [5, 0, 5]].quant_args()
    assert params.granularity == PerChannel(1)
    assert torch.equal(params.scale, qc.quant_args().scale[[5, 0, 5]])
    assert torch.equal(params.offset, qc.quant_args().offset[[5, 0, 5]])
    assert qc[[0, 2], 4].quant_args().granularity == PerTensor()
    assert qc[mask].quant_args().granularity == PerChannel(0) and qc[mask].quant_args().scale.numel() == int(mask.sum())
    # gradients reach data, scale and offset as through the dequantized tensor
    quantizer = LinearQuantizer(8, granularity=PerChannel(1), symmetric=False)
    quantizer.quantization_range = (torch.linspace(-3, -1, 6), torch.linspace(1, 3, 6))
    x = (torch.randn(4, 6) * 3).requires_grad_()
    grads = []
    for pick in (lambda t: t[:, [5, 0, 5]].dequantize(), lambda t: t.dequantize()[:, [5, 0, 5]]):
        for t in (x, quantizer.scale, quantizer.offset):
            t.grad = None
        (pick(quantizer(x)) * torch.arange(12.0).reshape(4, 3)).sum().backward()
        grads.append([x.grad.clone(), quantizer.scale.grad.clone(), quantizer.offset.grad.clone()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b)


def test_strict_quantization_for_module_restores_when_forward_raises():
    class Boom(torch.nn.Module):
        def forward(self, x):
            raise KeyError("boom")

    inner, boom, seen = torch.nn.Linear(2, 2), Boom(), []
    handle = ff.strict_quantization_for_module(False, inner, boom)
    inner.register_forward_pre_hook(lambda *args: seen.append(ff.get_strict_quantization()))
    inner(torch.ones(2))
    try:
        boom(torch.ones(1))
    except KeyError:
        pass
    assert seen == [False] and ff.get_strict_quantization() is True
    handle.remove()
    inner(torch.ones(2))
    assert seen == [False, True] and "forward" not in inner.__dict__ and "forward" not in boom.__dict__


def test_isolated_state_restores_flags_registrations_and_torch_settings():
    from fastforward.testing import assert_close
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    before = dispatcher.dispatch("my_op")
    try:
        with isolated_state():
            ff.set_strict_quantization(False)
            ff.set_export_mode(True)
            dispatcher.register("my_op", None, lambda: 1)
            torch.set_default_dtype(torch.float64)
            raise KeyError("leave the block by an exception")
    except KeyError:
        pass
    assert ff.get_strict_quantization() is True and ff.get_export_mode() is False
    assert before is None and dispatcher.dispatch("my_op") is None
    assert torch.get_default_dtype() == dtype and torch.get_num_threads() == threads
    qt = affine.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.5)
    assert_close(qt, torch.tensor([0.5, 1.0]))


def test_cache_assets_path():
    import tempfile
    from fastforward.cache import get_assets_path
    root = tempfile.mkdtemp()
    path = get_assets_path("quantization-state/org/model", "my tag", root)
    assert str(path) == os.path.join(root, "quantization-state--org--model", "my--tag")
    old = os.environ.get("FF_CACHE")
    os.environ["FF_CACHE"] = root
    try:
        assert str(get_assets_path("a:b")).startswith(os.path.join(root, "a--b"))
    finally:
        if old is None:
            del os.environ["FF_CACHE"]
        else:
            os.environ["FF_CACHE"] = old
    with open(os.path.join(root, "file"), "w"):
        pass
    raises(ValueError, lambda: get_assets_path(".", "file", root), "not a directory")


def test_bound_function_args_are_positional_in_dequantize_order():
    class Fn(QuantizationFunction):
        @staticmethod
        def quantize(data, scale, offset=None, num_bits=8):
            return torch.round(data / scale)

        @staticmethod
        def dequantize(quant_data, scale, offset=None, num_bits=8):
            return quant_data * scale

    bound = Fn.bind(0.5, num_bits=4)  # offset omitted: its default fills the gap in args
    assert bound.args == (0.5, None, 4)
    again = BoundQuantizationFunction(Fn, *bound.args)
    assert dict(again.arguments()) == {"scale": 0.5, "offset": None, "num_bits": 4}
    assert Fn.bind(0.5).args == (0.5,) and "offset" not in dict(Fn.bind(0.5).arguments())


def test_number_scale_and_offset_become_tensors_of_the_input_dtype():
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        x = torch.randn(5).to(dtype)
        qt = affine.quantize_per_tensor(x, 0.25, 3.0)
        params = qt.quant_args()
        for value, expected in ((params.scale, 0.25), (params.offset, 3.0)):
            assert isinstance(value, torch.Tensor) and value.dtype == dtype and float(value) == expected, (dtype, value)
        assert qt.dequantize().dtype == dtype
        assert torch.equal(qt.dequantize(), affine.quantize_per_tensor(x, torch.tensor(0.25, dtype=dtype),
                                                                        torch.tensor(3.0, dtype=dtype)).dequantize())
    scale = torch.tensor(0.5, dtype=torch.float64)  # a tensor is used as given
    assert affine.quantize_per_tensor(torch.randn(3), scale).quant_args().scale is scale

# Each test runs with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=None)

def test_in_place_op_on_a_dequantized_value_while_training():
    # (timm's MobileNetV3: Hardswish(inplace=True) after a quantizer) the dequantized value
    # was the output of a custom autograd Function that autograd took for a view of its
    # input: an in-place op on it while training was an error
    import torch.nn.functional as TF

    q = LinearQuantizer(8)
    q.quantization_range = (-4.0, 4.0)
    x = torch.randn(16, requires_grad=True)
    with ff.strict_quantization(False):
        y = TF.hardswish(q(x), inplace=True)
        (y * torch.arange(16.0)).sum().backward()
    with torch.no_grad():
        want = TF.hardswish(q(x).dequantize())
    assert torch.allclose(y.detach(), want)
    assert x.grad is not None and q.scale.grad is not None and bool(torch.isfinite(q.scale.grad).all())


def test_strict_functional_ops_on_python_numbers_compute_numbers():
    # `d // self.heads` in generated code: operands that are all Python numbers compute a
    # Python number, also under strict quantization (it raised "argument 'input' is not a
    # QuantizedTensor (got int)")
    from fastforward.nn import functional as QF

    with ff.strict_quantization(True):
        assert QF.floor_divide(7, 2, output_quantizer=QuantizerStub()) == 3
        assert QF.mul(1.5, 2, output_quantizer=QuantizerStub()) == 3.0
        try:
            QF.mul(torch.randn(3), 2, output_quantizer=QuantizerStub())
        except QuantizationError:
            pass
        else:
            raise AssertionError("a float tensor operand is still strict")

def test_range_setting_errors_name_the_quantizer_and_the_estimator():
    # a granularity that does not fit the data named only the granularity; a misspelt
    # estimator failed with "'str' object has no attribute 'split_module'"
    from fastforward.range_setting.min_error import mse_grid

    model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Linear(4, 2))
    ff.quantize_model(model)
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=8)
    ff.find_quantizers(model, "1/weight_quantizer").initialize(
        LinearQuantizer, num_bits=8, granularity=ff.PerChannel(3), overwrite_policy="overwrite")
    with ff.strict_quantization(False), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        raises(ValueError, lambda: model(torch.randn(3, 6)), "'1.weight_quantizer'", "PerChannel(channel=3)")
    for wrong in ("running_minmax", None, 3):
        raises(TypeError, lambda: ff.estimate_ranges(model, wrong).__enter__(), "RangeEstimator", type(wrong).__name__)
    # a requantization (a quantizer fed a QuantizedTensor) under the error-minimising search
    q1, q2 = LinearQuantizer(8), LinearQuantizer(8)
    with ff.estimate_ranges([q1, q2], mse_grid):
        q2(q1(torch.randn(64)))
    assert not q2.has_uninitialized_params


if __name__ == "__main__":
    sys.exit(run(globals(), lambda: "libffqrt: %s (%s)" % (_ffqrt.library_path(), _ffqrt.isa())))

"""Tests of integer execution (fastforward._integer and the libffqrt bridge's GEMM, conv,
matmul and elementwise entry points): the integer path against the simulated path
(dequantize -> float op -> quantize), packed-weight caching, threads, fallbacks, and a
randomized robustness run over odd shapes and views.

    FFQRT_LIBRARY=build/runtime/libffqrt.so python3 tests/python/test_integer.py
    FFQRT_LIBRARY=build/runtime/libffqrt.so /usr/bin/python3 tests/python/test_integer.py

Without the library every test SKIPs with the reason (exit 77 when all did).

"Within one step": a requantized output's integers differ by at most 1 from the simulated
ones; a float output by at most the float GEMM's own rounding bound (K * 2^-23 * sum|x*w|,
plus one ulp per term). "Exact": bit-identical, demanded where the float simulation is
itself exact (power-of-two scales, sums below 2^24).
"""

import contextlib
import copy
import gc
import io
import math
import os
import random
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import fastforward as ff  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from fastforward import _ffqrt, _integer, dispatcher  # noqa: E402
from fastforward.exceptions import QuantizationError  # noqa: E402
from fastforward.nn import LinearQuantizer, QuantizerStub  # noqa: E402
from fastforward.quantization.affine import quantize_per_channel, quantize_per_tensor  # noqa: E402
import fastforward.quantized_tensor as qt_module  # noqa: E402
from fastforward.quantized_tensor import _CODES, QuantizedTensor  # noqa: E402
from plain_runner import Skipped, isolation, run  # noqa: E402

F = ff.nn.functional


def need_c():
    if not _ffqrt.available():
        raise Skipped("libffqrt not loaded (set FFQRT_LIBRARY to build/runtime/libffqrt.so)")


def simulated(fn):
    with _integer.integer_execution(False):
        return fn()


def run_both(fn):
    """(integer result, path taken, simulated result)."""
    _integer._local.last = None
    with torch.no_grad():
        got = fn()
        path = _integer.last_path()
        want = simulated(fn)
    return got, path, want


# --- random quantized operands ---------------------------------------------------------------


def act(shape, rng, pow2=False, zp=None, storage=None):
    """A per-tensor 8-bit QuantizedTensor with a random scale and zero point."""
    scale = 2.0 ** rng.randint(-7, -2) if pow2 else rng.uniform(0.004, 0.08)
    zero = rng.randint(-40, 40) if zp is None else zp
    x = (torch.randn(shape) * 40 * scale) + (-zero * scale)
    qt = quantize_per_tensor(x, torch.tensor(scale), torch.tensor(float(-zero)))
    if storage is not None:
        qt = QuantizedTensor(qt.raw_data.to(storage), qt.quantization_context)
    return qt


def weight(shape, rng, pow2=False, per_channel=True):
    """A symmetric 8-bit weight, per output channel (dim 0) or per tensor."""
    n = shape[0]
    w = torch.randn(shape)
    if per_channel:
        if pow2:
            scale = torch.tensor([2.0 ** rng.randint(-8, -5) for _ in range(n)])
        else:
            scale = w.reshape(n, -1).abs().amax(1).clamp_min(1e-3) / 127
        return quantize_per_channel(w, scale, None, axis=0)
    scale = torch.tensor(2.0 ** -6 if pow2 else float(w.abs().max()) / 127)
    return quantize_per_tensor(w, scale, None)


def out_quantizer(ref, rng, pow2=False):
    q = LinearQuantizer(8, symmetric=False)
    if pow2:
        # A power-of-two scale (outputs land exactly on k/2 steps: exact ties) and an integer
        # offset, odd more often than not: libffqrt adds the zero point before rounding as
        # the simulation does, so the results must be bit-identical.
        span = float(ref.abs().max()) + 1e-6
        s = 2.0 ** (int(torch.ceil(torch.log2(torch.tensor(span / 100)))))
        q.quantization_range = (-128 * s, 127 * s)
        with torch.no_grad():
            q.scale.fill_(s)
            q.offset.fill_(float(rng.choice([-21, -7, -3, -1, 0, 1, 5, 9, 26])))
    else:
        lo, hi = min(float(ref.min()), 0.0), max(float(ref.max()), 1e-3)  # the grid holds 0
        q.quantization_range = (lo * rng.uniform(0.6, 1.0), hi * rng.uniform(0.6, 1.0))
    return q


def float_bound(xd, wd_t, k):
    """Rounding bound of a float GEMM of K terms: xd [m, k] @ wd_t [k, n]."""
    return (xd.abs() @ wd_t.abs()) * (k * 2.0 ** -23 * 1.5) + 1e-30


def assert_step(got, want, what):
    """Requantized outputs: QuantizedTensors of equal shape and grid, integers within 1."""
    assert isinstance(got, QuantizedTensor) and isinstance(want, QuantizedTensor), what
    assert got.shape == want.shape, "%s: shape %s vs %s" % (what, tuple(got.shape), tuple(want.shape))
    diff = (got.raw_data.double() - want.raw_data.double()).abs()
    worst = float(diff.max()) if diff.numel() else 0.0
    assert worst <= 1.0, "%s: integers differ by %s" % (what, worst)
    return worst


def assert_exact(got, want, what):
    if isinstance(got, QuantizedTensor):
        assert torch.equal(got.raw_data.double(), want.raw_data.double()), "%s: integers differ" % what
        assert torch.equal(got.dequantize(), want.dequantize()), "%s: values differ" % what
    else:
        assert got.dtype == want.dtype and torch.equal(got, want), "%s: floats differ by %s" % (
            what, float((got - want).abs().max()) if got.numel() else 0)


# --- linear --------------------------------------------------------------------------------


def check_linear(rng, m_shape, n, k, pow2, per_channel=True, bias=True, requant=False, storage=None):
    x = act(tuple(m_shape) + (k,), rng, pow2=pow2, storage=storage)
    w = weight((n, k), rng, pow2=pow2, per_channel=per_channel)
    if bias:
        step = float(x.quant_args().scale) * float(w.quant_args().scale.reshape(-1)[0])
        b = torch.randint(-50, 50, (n,)).float() * step if pow2 else torch.randn(n)
    else:
        b = None
    q = None
    if requant:
        with torch.no_grad():
            q = out_quantizer(TF.linear(x.dequantize(), w.dequantize(), b), rng, pow2)
    got, path, want = run_both(lambda: F.linear(x, w, b, output_quantizer=q))
    assert path == "linear:integer", path
    what = "linear %s x %d x %d pow2=%s requant=%s" % (tuple(m_shape), n, k, pow2, requant)
    if pow2:
        assert_exact(got, want, what)
    elif requant:
        assert_step(got, want, what)
    else:
        bound = float_bound(x.dequantize().reshape(-1, k), w.dequantize().t(), k).reshape(got.shape)
        assert bool(((got - want).abs() <= bound + 1e-6 * want.abs()).all()), what


def test_linear_matches_simulation():
    need_c()
    rng = random.Random(1)
    torch.manual_seed(1)
    for i in range(40):
        m_shape = rng.choice([(1,), (3,), (2, 5), (17,), (64,), (130,)])
        n, k = rng.choice([1, 3, 16, 33, 70]), rng.choice([1, 4, 31, 64, 200, 515])
        pow2 = i % 2 == 0
        check_linear(rng, m_shape, n, k, pow2=pow2, per_channel=i % 3 != 0, bias=i % 4 != 1,
                     requant=i % 5 in (0, 3), storage=torch.int8 if i % 7 == 0 else None)


# --- addmm: a linear layer stored [in, out] ----------------------------------------------------


def weight_t(shape, rng, pow2=False, per_channel=True):
    """A symmetric 8-bit weight stored [in, out] (addmm's mat2), per output column (dim 1)
    or per tensor."""
    n = shape[1]
    w = torch.randn(shape)
    if per_channel:
        if pow2:
            scale = torch.tensor([2.0 ** rng.randint(-8, -5) for _ in range(n)])
        else:
            scale = w.abs().amax(0).clamp_min(1e-3) / 127
        return quantize_per_channel(w, scale, None, axis=1)
    scale = torch.tensor(2.0 ** -6 if pow2 else float(w.abs().max()) / 127)
    return quantize_per_tensor(w, scale, None)


def as_linear_weight(w):
    """The same weight stored [out, in], quantized along dim 0 with the same scales."""
    scale = w.quant_args().scale
    wd = w.dequantize().t().contiguous()
    if scale.numel() == 1:
        return quantize_per_tensor(wd, scale.reshape(()), None)
    return quantize_per_channel(wd, scale, None, axis=0)


def check_addmm(rng, m, n, k, pow2, per_channel=True, bias="float", requant=False, storage=None):
    x = act((m, k), rng, pow2=pow2, storage=storage)
    w = weight_t((k, n), rng, pow2=pow2, per_channel=per_channel)
    step = float(x.quant_args().scale) * float(w.quant_args().scale.reshape(-1)[0])
    b = torch.randint(-50, 50, (n,)).float() * step if pow2 else torch.randn(n)
    if bias == "quantized":  # a bias quantizer's output (exact on its grid when pow2)
        zero = float(rng.randint(-20, 20))
        b = quantize_per_tensor(b, torch.tensor(step if pow2 else rng.uniform(0.005, 0.05)), torch.tensor(zero))
    q = None
    if requant:
        with torch.no_grad():
            q = out_quantizer(torch.addmm(value_of(b), x.dequantize(), w.dequantize()), rng, pow2)
    got, path, want = run_both(lambda: F.addmm(b, x, w, output_quantizer=q))
    assert path == "addmm:integer", path
    what = "addmm %d x %d x %d pow2=%s per_channel=%s bias=%s requant=%s" % (m, n, k, pow2, per_channel, bias, requant)
    if pow2:
        assert_exact(got, want, what)
    elif requant:
        assert_step(got, want, what)
    else:
        bound = float_bound(x.dequantize(), w.dequantize(), k)
        assert bool(((got - want).abs() <= bound + 1e-6 * want.abs()).all()), what
    # the same layer stored [out, in] goes through the same kernel: the same bits
    with torch.no_grad():
        same = F.linear(x, as_linear_weight(w), b, output_quantizer=q)
    assert _integer.last_path() == "linear:integer"
    assert_exact(got, same, what + " (vs linear)")


def value_of(t):
    return t.dequantize() if isinstance(t, QuantizedTensor) else t


def test_addmm_matches_simulation():
    """addmm(bias, x, w) with beta = alpha = 1 and w [in, out] quantized per output column
    (or per tensor): transformers' Conv1D, run as linear(x, w.t(), bias) by the GEMM."""
    need_c()
    rng = random.Random(21)
    torch.manual_seed(21)
    for i in range(40):
        m = rng.choice([1, 3, 17, 64, 130])
        n, k = rng.choice([1, 3, 16, 33, 70]), rng.choice([1, 4, 31, 64, 200, 515])
        check_addmm(rng, m, n, k, pow2=i % 2 == 0, per_channel=i % 3 != 0,
                    bias="quantized" if i % 4 == 1 else "float", requant=i % 5 in (0, 3),
                    storage=torch.int8 if i % 7 == 0 else None)


def test_addmm_that_is_no_linear_layer_is_simulated():
    """beta or alpha other than 1, a bias that is not one row, a weight scaled per input
    (dim 0) or with zero points, an unquantized or 3-D input: the simulated path, its
    values and its errors."""
    need_c()
    rng = random.Random(22)
    torch.manual_seed(22)
    x, w, b = act((5, 16), rng), weight_t((16, 8), rng), torch.randn(8)
    per_input = quantize_per_channel(w.dequantize(), w.dequantize().abs().amax(1) / 127, None, axis=0)
    zeros = quantize_per_channel(w.dequantize(), w.quant_args().scale, torch.full((8,), 3.0), axis=1)
    rows = torch.randn(5, 8)
    cases = {
        "beta=0.5": lambda: F.addmm(b, x, w, beta=0.5),
        "alpha=2": lambda: F.addmm(b, x, w, alpha=2),
        "beta=0": lambda: F.addmm(b, x, w, beta=0),
        "beta=True": lambda: F.addmm(b, x, w, beta=True),
        "bias [5, 8]": lambda: F.addmm(rows, x, w),
        "bias [1, 8]": lambda: F.addmm(b[None], x, w),
        "bias float64": lambda: F.addmm(b.double(), x, w),
        "per input": lambda: F.addmm(b, x, per_input),
        "zero points": lambda: F.addmm(b, x, zeros),
        "float input": lambda: F.addmm(b, x.dequantize(), w),
        "torch, alpha=0.5": lambda: torch.addmm(b, x, w, alpha=0.5),
    }
    for what, call in cases.items():
        _integer._local.last = None
        try:
            with torch.no_grad():
                got = call()
        except RuntimeError:
            try:
                simulated(call)
            except RuntimeError:
                continue
            raise AssertionError("%s: the integer path raised where the simulation does not" % what)
        assert _integer.last_path() in (None, "addmm:simulated"), (what, _integer.last_path())
        with torch.no_grad():
            assert_exact(got, simulated(call), what)
    for what, call in {"3-D input": lambda: F.addmm(b, act((2, 5, 16), rng), w),
                       "no bias": lambda: F.addmm(None, x, w)}.items():
        for path in (call, lambda: simulated(call)):
            try:
                path()
            except (RuntimeError, TypeError):
                continue
            raise AssertionError("%s: torch's error expected" % what)
    # beta and alpha 1 as floats, and torch's own addmm on QuantizedTensors: the kernel
    for what, call in {"floats": lambda: F.addmm(b, x, w, beta=1.0, alpha=1.0),
                       "torch": lambda: torch.addmm(b, x, w)}.items():
        got, path, want = run_both(call)
        assert path == "addmm:integer", (what, path)
        assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), what


def test_addmm_packs_are_cached_and_invalidated():
    """addmm keeps the pack of its transposed weight like linear's: made once, made again
    when the weight's integers or scales change, apart from a linear pack of the same tensor
    (a square weight read both ways), dropped with the weight."""
    need_c()
    rng = random.Random(23)
    torch.manual_seed(23)
    _integer.clear_cache()

    def exercise():
        x, b = act((4, 32), rng), torch.randn(8)
        raw = torch.randint(-127, 128, (32, 8), dtype=torch.int8)
        scale = torch.full((8,), 0.01)
        w = QuantizedTensor(raw, ff.quantization.affine.quantization_context(scale, None, ff.PerChannel(1)))
        with torch.no_grad():
            y1 = F.addmm(b, x, w)
            assert _integer.last_path() == "addmm:integer"
            info = _integer.cache_info()
            for _ in range(3):
                assert torch.equal(F.addmm(b, x, w), y1)
            after = _integer.cache_info()
            assert after["packs"] == info["packs"] and after["hits"] >= info["hits"] + 3, (info, after)
            raw[:, 0].neg_()  # in place: packed again, equal to the simulation
            y2 = F.addmm(b, x, w)
            assert _integer.cache_info()["packs"] == info["packs"] + 1
            assert not torch.equal(y2, y1) and torch.equal(y2[:, 1:], y1[:, 1:])
            assert torch.allclose(y2, simulated(lambda: F.addmm(b, x, w)), rtol=1e-5, atol=1e-5)
            scale.mul_(2)  # new scales: packed again
            y3 = F.addmm(b, x, w)
            assert _integer.cache_info()["packs"] == info["packs"] + 2
            assert torch.allclose(y3 - b, 2 * (y2 - b), rtol=1e-5, atol=1e-5)
            # a square weight, per tensor, read as [in, out] by addmm and as [out, in] by linear
            sq = QuantizedTensor(torch.randint(-127, 128, (32, 32), dtype=torch.int8),
                                 ff.quantization.affine.quantization_context(torch.tensor(0.02), None, ff.PerTensor()))
            b32 = torch.randn(32)
            before = _integer.cache_info()["packs"]
            for _ in range(2):
                for op in (lambda: F.addmm(b32, x, sq), lambda: F.linear(x, sq, b32)):
                    got, path, want = run_both(op)
                    assert path.endswith(":integer"), path
                    assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), path
            assert _integer.cache_info()["packs"] == before + 2, "one pack per reading, kept"
            assert not torch.allclose(F.addmm(b32, x, sq), F.linear(x, sq, b32))
        return _integer.cache_info()["entries"]

    entries = exercise()  # its weights die with its frame
    gc.collect()
    assert _integer.cache_info()["entries"] == entries - 3, "an entry outlived its weight"


class _Conv1DLike(torch.nn.Module):
    """transformers' Conv1D: the weight stored [in, out], torch.addmm."""

    def __init__(self, nx, nf):
        super().__init__()
        self.nf = nf
        self.weight = torch.nn.Parameter(torch.randn(nx, nf) * 0.2)
        self.bias = torch.nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class _Conv1DMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = _Conv1DLike(24, 96)
        self.c_proj = _Conv1DLike(96, 24)

    def forward(self, x):
        return self.c_proj(torch.relu(self.c_fc(x)))


def test_conv1d_layers_of_ff_quantize_run_addmm_in_integers():
    """ff.quantize gives the [in, out] weights scales per output column; after calibration
    each addmm runs on the integer path, before and after freezing, close to the simulation."""
    need_c()
    torch.manual_seed(24)
    model = _Conv1DMLP().eval()
    x = torch.randn(2, 7, 24)
    with torch.no_grad():
        ref = model(x)
    ff.quantize(model, weights=8, activations=8)
    assert model.c_fc.quantizer_self_weight.granularity == ff.PerChannel(1)
    with torch.no_grad(), ff.calibration(model):
        model(x)
    paths = []
    note = _integer._note
    _integer._note = lambda op, path: (paths.append("%s:%s" % (op, path)), note(op, path))
    try:
        with torch.no_grad():
            sim = simulated(lambda: value_of(model(x)))
        with torch.inference_mode():
            paths.clear()
            got = value_of(model(x))
            assert paths.count("addmm:integer") == 2, paths
            ff.freeze(model)
            paths.clear()
            frozen = value_of(model(x))
            assert paths.count("addmm:integer") == 2, paths
    finally:
        _integer._note = note
    assert torch.equal(frozen, got)
    noise = float((got - sim).norm())
    assert noise == 0 or 20 * math.log10(float(sim.norm()) / noise) > 35
    assert float((got - ref).norm() / ref.norm()) < 0.05


def test_dynamic_quantized_input():
    """The dynamic path: activations quantized per call by a DynamicLinearQuantizer, then
    the integer GEMM; equal to the simulation."""
    need_c()
    torch.manual_seed(2)
    dq = ff.nn.DynamicLinearQuantizer(8)
    w = weight((24, 40), random.Random(2))
    x = torch.randn(6, 40)
    got, path, want = run_both(lambda: F.linear(dq(x), w, None))
    assert path == "linear:integer", path
    bound = float_bound(dq(x).dequantize(), w.dequantize().t(), 40)
    assert bool(((got - want).abs() <= bound + 1e-6).all())


def test_dynamic_activations_path():
    """Opt-in: a float input times a quantized weight, the input quantized per call to 7
    bits in C. Its error against the float product is bounded by half an input step per
    term; off by default (the simulation keeps such an input in float)."""
    need_c()
    torch.manual_seed(10)
    w = weight((24, 300), random.Random(10))
    x = torch.randn(2, 5, 300) * 3
    b = torch.randn(24)
    _integer._local.last = None
    with torch.no_grad():
        F.linear(x, w, b)
        assert _integer.last_path() is None
        with _integer.dynamic_activations():
            got = F.linear(x, w, b)
            assert _integer.last_path() == "linear:integer"
        ref = TF.linear(x, w.dequantize(), b)
    step = (float(x.max().clamp_min(0)) - float(x.min().clamp_max(0))) / 127
    bound = (w.dequantize().abs().sum(1) * step / 2) * 1.01 + 1e-4
    assert got.shape == ref.shape
    assert bool(((got - ref).abs() <= bound).all()), float(((got - ref).abs() - bound).max())
    assert bool(((got - ref).abs() > 0).any()), "the input was not quantized"


# --- conv ------------------------------------------------------------------------------------


def test_conv_matches_simulation():
    need_c()
    rng = random.Random(3)
    torch.manual_seed(3)
    cases = [
        (2, (1, 3, 9, 9), (4, 3, 3, 3), dict(stride=1, padding=1)),
        (2, (2, 4, 8, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), groups=2)),
        (2, (1, 8, 6, 6), (8, 1, 3, 3), dict(padding="same", groups=8)),
        (2, (3, 5, 11, 4), (2, 5, 1, 1), dict()),
        (2, (5, 7, 7), (3, 5, 3, 3), dict(dilation=2, padding=2)),  # unbatched
        (1, (2, 3, 20), (5, 3, 4), dict(stride=2, padding=3)),
        (1, (1, 6, 9), (6, 3, 3), dict(groups=2, padding="valid", dilation=2)),
    ]
    for i, (dims, xs, ws, kw) in enumerate(cases * 2):
        pow2 = i >= len(cases)
        x = act(xs, rng, pow2=pow2)
        w = weight(ws, rng, pow2=pow2)
        fn = F.conv2d if dims == 2 else F.conv1d
        tfn = TF.conv2d if dims == 2 else TF.conv1d
        b = None
        if i % 2:
            step = float(x.quant_args().scale) * float(w.quant_args().scale.reshape(-1)[0])
            b = torch.randint(-9, 9, (ws[0],)).float() * step
        for requant in (False, True):
            q = None
            if requant:
                with torch.no_grad():
                    q = out_quantizer(tfn(x.dequantize(), w.dequantize(), b, **kw), rng, pow2)
            got, path, want = run_both(lambda: fn(x, w, b, output_quantizer=q, **kw))
            assert path == "conv%dd:integer" % dims, (path, xs, ws, kw)
            what = "conv%dd %s %s %s" % (dims, xs, ws, kw)
            if pow2:
                assert_exact(got, want, what)
            elif requant:
                assert_step(got, want, what)
            else:
                assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), what


def test_conv_chain_keeps_the_memory_format():
    """A batched conv2d's requantized output has its input's memory format, as torch's conv
    (the simulation) gives it: NCHW from NCHW, channels_last from channels_last. A second conv
    reads it as is, and the relu table, the requantization table and flatten keep every
    value and the layout."""
    need_c()
    rng = random.Random(5)
    torch.manual_seed(5)
    for pow2, cl in ((True, True), (False, True), (False, False)):
        x = act((6, 3, 9, 9), rng, pow2=pow2)
        if cl:
            x = QuantizedTensor(x.raw_data.contiguous(memory_format=torch.channels_last), x.quantization_context)
        fmt = torch.channels_last if cl else torch.contiguous_format
        w1, w2 = weight((8, 3, 3, 3), rng, pow2=pow2), weight((5, 8, 3, 3), rng, pow2=pow2)
        with torch.no_grad():
            ref1 = TF.conv2d(x.dequantize(), w1.dequantize(), None, 1, 1)
        q1 = out_quantizer(ref1, rng, pow2)
        y1, path, want1 = run_both(lambda: F.conv2d(x, w1, None, 1, 1, output_quantizer=q1))
        # the quantizer has no storage dtype: the simulation stores float32, the kernel keeps
        # its int8 codes (channels_last) and reports float32 as the tensor's dtype
        assert path == "conv2d:integer" and y1.raw_data.dtype == torch.int8
        assert y1.dtype == want1.dtype == torch.float32 and y1.is_floating_point() and torch.is_floating_point(y1)
        assert y1.raw_data.is_contiguous(memory_format=fmt) and y1.raw_data.is_contiguous() != cl
        assert y1.stride() == want1.stride() and y1.dequantize().stride() == want1.dequantize().stride()
        codes = y1.__dict__[_CODES].q8
        assert codes.dtype == torch.int8 and codes.is_contiguous(memory_format=fmt)
        with torch.no_grad():
            assert _integer._activation(y1).raw is codes
        (assert_exact if pow2 else assert_step)(y1, want1, "first conv")
        # relu by table, then the next layer's input quantizer requantizes by table
        qr = out_quantizer(torch.relu(ref1), rng, pow2)
        r, path, want_r = run_both(lambda: F.relu(y1, output_quantizer=qr))
        assert path == "relu:integer" and r.raw_data.is_contiguous(memory_format=fmt)
        with torch.no_grad():
            assert torch.equal(r.dequantize(), simulated(lambda: F.relu(y1, output_quantizer=qr)).dequantize())
        qin = LinearQuantizer(8, symmetric=False)
        qin.quantization_range = (-0.3, float(torch.relu(ref1).max()) * 0.8)  # clips some values
        with torch.no_grad():
            got = qin(r)
            want = simulated(lambda: qin(r))
        assert _integer.last_path() == "requantize:integer"
        assert got.dtype == want.dtype == torch.float32 and _CODES in got.__dict__
        assert_exact(got, want, "requantization by table")
        # the second conv reads the integers in their layout
        with torch.no_grad():
            ref2 = TF.conv2d(got.dequantize(), w2.dequantize(), None, 2, 1)
        q2 = out_quantizer(ref2, rng, pow2)
        y2, path, want2 = run_both(lambda: F.conv2d(got, w2, None, 2, 1, output_quantizer=q2))
        assert path == "conv2d:integer" and y2.stride() == want2.stride()
        (assert_exact if pow2 else assert_step)(y2, want2, "second conv")
        # shape ops move the integers: same values as dequantize-then-reshape
        with torch.no_grad():
            for op in (lambda t: torch.flatten(t, 1), lambda t: t.reshape(6, -1), lambda t: t.permute(0, 2, 3, 1),
                       lambda t: t.flatten(2).transpose(1, 2)):
                moved = op(y2)
                assert isinstance(moved, QuantizedTensor) and moved.dtype == torch.float32
                assert _integer._activation(moved).raw is moved.__dict__[_CODES].q8  # the codes moved too
                assert torch.equal(moved.dequantize(), op(y2.dequantize()))
                assert torch.equal(simulated(lambda: op(y2)), op(y2.dequantize()))


def test_channels_last_float_data_quantize_in_c():
    """Quantizing a channels_last float tensor (a float conv output in that layout) gives
    the same integers and values as the contiguous tensor, on both paths."""
    need_c()
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-1.5, 2.0)
    x = (torch.randn(3, 5, 4, 6) * 1.5).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        for on in (True, False):
            with _integer.integer_execution(on):
                a, b = q(x), q(x.contiguous())
                assert torch.equal(a.raw_data, b.raw_data) and torch.equal(a.dequantize(), b.dequantize())
                assert torch.equal(_integer._int8_raw(a), b.raw_data.to(torch.int8))
        # a conv with a float result returns it in the default (contiguous) layout
        rng = random.Random(9)
        y = F.conv2d(act((2, 3, 6, 6), rng), weight((4, 3, 3, 3), rng), None, 1, 1)
        assert _integer.last_path() == "conv2d:integer" and y.is_contiguous()


def test_weights_are_not_requantized_while_unchanged():
    q = LinearQuantizer(8, granularity=ff.PerChannel(0))
    w = torch.nn.Parameter(torch.randn(6, 5))
    q.quantization_range = (w.detach().amin(1), w.detach().amax(1))
    with torch.no_grad():
        a, b = q(w), q(w)
        assert a is b, "same weight, same parameters: the same result"
        w.mul_(2.0)  # in place: version counter moves
        c = q(w)
        assert c is not a and torch.equal(c.raw_data, quantize_per_channel(w, q.scale, None, axis=0).raw_data)
        q.scale.mul_(2.0)  # new parameters
        d = q(w)
        assert d is not c and not torch.equal(d.raw_data, c.raw_data)
        d.raw_data.add_(1.0)  # someone changed the result: not handed out again
        assert q(w) is not d
    e, f = q(w), q(w)  # autograd records: always quantized anew
    assert e is not f and e.requires_grad
    w64 = torch.nn.Parameter(w.detach().double())  # quantized by torch ops, not libffqrt
    with torch.inference_mode():  # kept there too (the result is an ordinary tensor)
        g, h = q(w), q(w)
        assert g is h and not g.raw_data.is_inference()
        w.mul_(0.5)  # an ordinary tensor changed in place under inference_mode: version moves
        i = q(w)
        assert i is not g and torch.equal(i.raw_data, quantize_per_channel(w, q.scale, None, axis=0).raw_data)
        j, k = q(w64), q(w64)
        assert j is k and not j.raw_data.is_inference()


def test_simulated_dequantization_computed_with_quantization():
    need_c()
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-1.0, 2.5)
    x = torch.randn(64, 33) * 2
    with torch.no_grad(), _integer.integer_execution(False):
        qt = q(x)
        want = (qt.raw_data + torch.round(q.offset.detach())) * q.scale.detach()  # (raw - zp) * s
        first = qt.dequantize()
        assert torch.equal(first, want)
        second = qt.dequantize()
        assert torch.equal(second, want) and second is not first, "handed out once"
        first.add_(1.0)  # the first consumer's copy is its own
        assert torch.equal(qt.dequantize(), want)
        qt2 = q(x)
        qt2.raw_data[0, 0] = 5.0  # raw data changed in place: computed from them again
        got = qt2.dequantize()
        want2 = (torch.tensor(5.0) + torch.round(q.offset.detach())) * q.scale.detach()
        assert torch.equal(got[0, 0].reshape(1), want2.reshape(1))
    zp = -int(torch.round(q.offset.detach()))
    with torch.inference_mode(), _integer.integer_execution(False):
        qt = q(x)  # computed alongside here too, and handed out while the raw data are unchanged
        assert not qt.raw_data.is_inference()
        kept = _ffqrt.take_dequantized(qt.raw_data, float(q.scale), zp)
        assert kept is not None and torch.equal(kept, want)
        qt2 = q(x)
        qt2.raw_data[0, 0] = 5.0  # changed in place under inference_mode: not handed out
        assert _ffqrt.take_dequantized(qt2.raw_data, float(q.scale), zp) is None
        assert torch.equal(qt2.dequantize()[0, 0].reshape(1), want2.reshape(1))


# --- matmul / bmm -------------------------------------------------------------------------------


def test_matmul_bmm_match_simulation():
    need_c()
    rng = random.Random(4)
    torch.manual_seed(4)
    shapes = [((5, 7), (7, 3)), ((2, 4, 9), (2, 9, 6)), ((3, 2, 5, 8), (3, 2, 8, 4)),
              ((2, 6, 16), (16, 5)), ((1, 4, 3), (2, 3, 2)), ((1, 1), (1, 1))]
    for i, (sa, sb) in enumerate(shapes * 2):
        pow2 = i >= len(shapes)
        a, b = act(sa, rng, pow2=pow2), act(sb, rng, pow2=pow2)
        for requant in (False, True):
            q = None
            if requant:
                with torch.no_grad():
                    q = out_quantizer(torch.matmul(a.dequantize(), b.dequantize()), rng, pow2)
            got, path, want = run_both(lambda: F.matmul(a, b, output_quantizer=q))
            assert path == "matmul:integer", path
            what = "matmul %s @ %s" % (sa, sb)
            if pow2:
                assert_exact(got, want, what)
            elif requant:
                assert_step(got, want, what)
            else:
                assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), what
    a, b = act((3, 4, 5), rng), act((3, 5, 2), rng)
    got, path, want = run_both(lambda: F.bmm(a, b))
    assert path == "bmm:integer" and torch.allclose(got, want, rtol=1e-5, atol=1e-6)


def test_matmul_of_transposed_views_reads_them_as_stored():
    # x @ y.transpose(-2, -1) (attention's q @ k^T): the C matmul reads y's rows as they are
    need_c()
    rng = random.Random(12)
    torch.manual_seed(12)
    for i, (sa, sb) in enumerate([((2, 3, 9, 16), (2, 3, 7, 16)), ((4, 33, 20), (4, 70, 20)), ((5, 8), (6, 8)),
                                  ((1, 37, 5), (1, 19, 5))]):
        pow2 = i % 2 == 0
        a, b = act(sa, rng, pow2=pow2), act(sb, rng, pow2=pow2)
        with torch.no_grad():
            q = out_quantizer(torch.matmul(a.dequantize(), b.dequantize().transpose(-2, -1)), rng, pow2)
        for oq in (None, q):
            got, path, want = run_both(lambda: F.matmul(a, b.transpose(-2, -1), output_quantizer=oq))
            assert path == "matmul:integer", path
            what = "matmul %s @ %s^T" % (sa, sb)
            if pow2:
                assert_exact(got, want, what)
            elif oq is not None:
                assert_step(got, want, what)
            else:
                assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), what


def test_matmul_batch_in_c_matches_the_reference():
    # _ffqrt.matmul (ffqrt_matmul_batch, products spread over the threads) against a direct
    # int64 product, with b as given and transposed, on batches larger than the thread count
    need_c()
    g = torch.Generator().manual_seed(5)
    for batch, m, k, n in [(12, 37, 64, 41), (3, 1, 5, 1), (7, 20, 130, 16), (2, 65, 3, 33)]:
        for dt_a, dt_b in ((torch.int8, torch.int8), (torch.uint8, torch.int8), (torch.int8, torch.uint8)):
            lo_a, lo_b = (-128 if dt_a == torch.int8 else 0), (-128 if dt_b == torch.int8 else 0)
            a = torch.randint(lo_a, lo_a + 256, (batch, m, k), generator=g).to(dt_a)
            b = torch.randint(lo_b, lo_b + 256, (batch, k, n), generator=g).to(dt_b)
            pa = _ffqrt.QParam(1.0, int(torch.randint(lo_a, lo_a + 256, (1,), generator=g)), dt_a)
            pb = _ffqrt.QParam(1.0, int(torch.randint(lo_b, lo_b + 256, (1,), generator=g)), dt_b)
            want = torch.matmul(a.long() - pa.zero_point, b.long() - pb.zero_point).double()
            for transposed in (False, True):
                rhs = b.transpose(1, 2).contiguous() if transposed else b
                got = _ffqrt.matmul(a, pa, rhs, pb, b_transposed=transposed)
                assert torch.equal(got.double(), want), (batch, m, k, n, dt_a, dt_b, transposed)
    try:
        _ffqrt.matmul(torch.zeros(2, 3, 4, dtype=torch.int8), _ffqrt.QParam(1.0, 0),
                      torch.zeros(2, 4, 5, dtype=torch.int8), _ffqrt.QParam(1.0, 0), b_transposed=True)
    except ValueError as exc:
        assert "transposed" in str(exc)
    else:
        raise AssertionError("a mismatched transposed right-hand side was accepted")


def _attention_case(rng, q_shape, kv_heads=None, s=None, ev=None, pow2=False, out=True, scale=None):
    """(query, key, value, quantizers) calibrated on the float attention."""
    *lead, length, e = q_shape
    s = length if s is None else s
    ev = e if ev is None else ev
    kv_lead = list(lead) if kv_heads is None else list(lead[:-1]) + [kv_heads]
    q = act(tuple(q_shape), rng, pow2=pow2)
    k = act(tuple(kv_lead) + (s, e), rng, pow2=pow2)
    v = act(tuple(kv_lead) + (s, ev), rng, pow2=pow2)
    factor = 1 / e ** 0.5 if scale is None else scale
    with torch.no_grad():  # calibration
        kd, vd = k.dequantize(), v.dequantize()
        if kv_heads is not None:
            rep = q_shape[-3] // kv_heads
            kd, vd = kd.repeat_interleave(rep, -3), vd.repeat_interleave(rep, -3)
        scores = q.dequantize() @ kd.transpose(-2, -1) * factor
        qs = out_quantizer(scores, rng, pow2)
        weights = torch.softmax(qs(scores).dequantize(), -1)
        qw = LinearQuantizer(8, symmetric=False)
        qw.quantization_range = (0.0, float(weights.max()))
        if pow2:
            with torch.no_grad():
                qw.scale.fill_(2.0 ** -8)
                qw.offset.fill_(128.0)  # zero point -128: the grid is [0, 255 / 256]
        qo = out_quantizer(qw(weights).dequantize() @ vd, rng, pow2) if out else None
    return q, k, v, {"attn_scores_quantizer": qs, "attn_weights_quantizer": qw, "output_quantizer": qo}


def test_attention_runs_on_the_integer_path():
    need_c()
    rng = random.Random(21)
    torch.manual_seed(21)
    cases = [dict(q_shape=(2, 3, 17, 16)), dict(q_shape=(4, 9, 16), s=23, ev=8), dict(q_shape=(1, 4, 12, 16), kv_heads=2),
             dict(q_shape=(2, 5, 16), out=False), dict(q_shape=(1, 2, 30, 32), scale=0.25)]
    for pow2 in (True, False):
        for i, case in enumerate(cases):
            q, k, v, quantizers = _attention_case(rng, pow2=pow2, **case)
            kwargs = dict(quantizers, enable_gqa="kv_heads" in case)
            if "scale" in case:
                kwargs["scale"] = case["scale"]
            got, path, want = run_both(lambda: F.scaled_dot_product_attention(q, k, v, **kwargs))
            assert path == "scaled_dot_product_attention:integer", (case, path)
            what = "attention %s pow2=%s" % (case, pow2)
            if isinstance(want, QuantizedTensor):
                # each step (scores, softmax, output) within a step of the simulation's
                diff = (got.dequantize() - want.dequantize()).abs()
                step = float(quantizers["output_quantizer"].scale)
                assert float(diff.max()) <= 4 * step and float(diff.mean()) <= 0.1 * step, (what, float(diff.max()))
            else:
                assert torch.allclose(got, want, atol=0.05 * float(want.abs().max()) + 1e-6), what
    # what the integer attention does not take goes the simulated way, with the same result
    q, k, v, quantizers = _attention_case(rng, q_shape=(2, 6, 16))
    mask = torch.rand(2, 6, 6) > 0.3
    stub = QuantizerStub()
    for extra in (dict(attn_mask=mask), dict(is_causal=True), dict(scaled_query_quantizer=quantizers["output_quantizer"]),
                  dict(attn_scores_quantizer=stub), dict(attn_weights_quantizer=None)):
        kwargs = dict(quantizers, **extra)
        got, path, want = run_both(lambda: F.scaled_dot_product_attention(q, k, v, **kwargs))
        assert path != "scaled_dot_product_attention:integer", extra
        assert_exact(got, want, "attention fallback %s" % sorted(extra))
    # a kernel registered by the user comes first
    calls = []
    with dispatcher.register("scaled_dot_product_attention", None, lambda *a, **kw: calls.append(kw) or "mine"):
        assert F.scaled_dot_product_attention(q, k, v, **quantizers) == "mine" and calls
    assert F.scaled_dot_product_attention(q, k, v, **quantizers) is not None


def test_add_mul_by_a_scalar_are_tables_equal_to_the_simulation():
    # attention's `scores * scaling` with the scaling quantized (a Python float comes back from
    # its quantizer as the float of its quantized value), a one-element tensor, or a number
    # never quantized: a table of the other operand's codes, bit for bit the simulation's
    # values (any scales)
    need_c()
    rng = random.Random(41)
    torch.manual_seed(41)
    for i in range(12):
        x = act(rng.choice([(4, 9), (2, 3, 17, 5), (7,)]), rng)
        sq = LinearQuantizer(8, symmetric=rng.random() < 0.5)
        v = rng.uniform(-3, 3)
        sq.quantization_range = (min(v, 0.0) - 0.1, max(v, 0.0) + 0.1)
        scalar = sq(v) if i % 3 == 1 else sq(torch.full((1, 1), v)) if i % 3 == 2 else v
        for op, fn in (("mul", F.mul), ("add", F.add)):
            with torch.no_grad():
                ref = fn(x.dequantize(), scalar if type(scalar) is float else scalar.dequantize())
            q = LinearQuantizer(8, symmetric=False)
            q.quantization_range = (min(float(ref.min()), 0.0) - 0.01, max(float(ref.max()), 0.0) + 0.01)
            for a, b in ((x, scalar), (scalar, x)):
                got, path, want = run_both(lambda: fn(a, b, output_quantizer=q))
                assert path == op + ":integer", (op, path, i, tuple(x.shape), getattr(scalar, "shape", v))
                assert_exact(got, want, "%s by a scalar #%d" % (op, i))


def test_softmax_matches_simulation():
    need_c()
    rng = random.Random(51)
    torch.manual_seed(51)
    for shape in [(4, 7, 19), (3, 128), (2, 3, 197, 197), (5, 1), (6, 1000)]:
        x = act(shape, rng)
        q = LinearQuantizer(8, symmetric=False)
        q.quantization_range = (0.0, rng.choice([1.0, 0.5, 0.25]))
        for dim in (-1, len(shape) - 1):
            got, path, want = run_both(lambda: F.softmax(x, dim, output_quantizer=q))
            assert path == "softmax:integer", (shape, path)
            assert_step(got, want, "softmax %s" % (shape,))
    # another dimension, a float64 result or no static output grid: simulated
    x = act((3, 4, 5), rng)
    for call in (lambda: F.softmax(x, 1, output_quantizer=q), lambda: F.softmax(x, -1, torch.float64, output_quantizer=q),
                 lambda: F.softmax(x, -1)):
        got, path, want = run_both(call)
        assert path is None, path
        assert_exact(got, want, "softmax fallback")


def test_layer_norm_matches_simulation():
    need_c()
    rng = random.Random(31)
    torch.manual_seed(31)
    for shape in [(4, 7, 192), (3, 64), (2, 5, 1000), (6, 3), (2, 2, 4, 16)]:
        x = act(shape, rng)
        d = shape[-1]
        gamma, beta = torch.rand(d) + 0.5, torch.randn(d) * 0.1
        for w, b in ((None, None), (gamma, beta), (weight((d,), rng, per_channel=False), beta), (None, beta)):
            with torch.no_grad():
                wf = w.dequantize() if isinstance(w, QuantizedTensor) else w
                ref = TF.layer_norm(x.dequantize(), (d,), wf, b)
            q = LinearQuantizer(8, symmetric=False)
            q.quantization_range = (float(ref.min()) * 0.9 - 0.01, float(ref.max()) * 0.9 + 0.01)
            eps = rng.choice([1e-5, 1e-6, 0.1])
            got, path, want = run_both(lambda: F.layer_norm(x, (d,), w, b, eps, output_quantizer=q))
            assert path == "layer_norm:integer", (shape, path)
            assert_step(got, want, "layer_norm %s" % (shape,))
    # a quantized weight is dequantized once while unchanged; a change is followed
    x = act((3, 16), rng)
    w = weight((16,), rng, per_channel=False)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-4.0, 4.0)
    first, path, want = run_both(lambda: F.layer_norm(x, (16,), w, None, 1e-5, output_quantizer=q))
    assert path == "layer_norm:integer"
    with torch.no_grad():
        w.raw_data.mul_(-1)
    got, path, want = run_both(lambda: F.layer_norm(x, (16,), w, None, 1e-5, output_quantizer=q))
    assert path == "layer_norm:integer" and not torch.equal(got.raw_data, first.raw_data)
    assert_step(got, want, "layer_norm after its weight changed")
    # normalizing more than the last dimension, or without a static output grid: simulated
    x = act((2, 4, 8), rng)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-3.0, 3.0)
    for call in (lambda: F.layer_norm(x, (4, 8), output_quantizer=q), lambda: F.layer_norm(x, (8,))):
        got, path, want = run_both(call)
        assert path is None, path
        assert_exact(got, want, "layer_norm fallback")
    # strict quantization: a float weight is an error on both paths
    ff.set_strict_quantization(True)
    try:
        F.layer_norm(x, (8,), torch.ones(8), None, 1e-5, output_quantizer=q)
    except QuantizationError:
        pass
    else:
        raise AssertionError("a float layer_norm weight was accepted under strict quantization")


# --- elementwise ------------------------------------------------------------------------------


def test_add_mul_unary_match_simulation():
    need_c()
    rng = random.Random(5)
    torch.manual_seed(5)
    for i in range(24):
        pow2 = i % 2 == 0
        shape = rng.choice([(7,), (3, 5), (2, 3, 4), (1,), (33, 17)])
        a, b = act(shape, rng, pow2=pow2), act(shape, rng, pow2=pow2)
        for name, fn, tfn in (("add", F.add, torch.add), ("mul", F.mul, torch.mul)):
            with torch.no_grad():
                q = out_quantizer(tfn(a.dequantize(), b.dequantize()), rng, pow2)
            got, path, want = run_both(lambda: fn(a, b, output_quantizer=q))
            assert path == name + ":integer", path
            (assert_exact if pow2 else assert_step)(got, want, "%s %s" % (name, shape))
        for name in ("relu", "gelu", "sigmoid", "silu", "negative", "exp", "sin", "cos"):
            fn = getattr(F, name)
            with torch.no_grad():
                ref = simulated(lambda: fn(a, output_quantizer=None, strict_quantization=False))
                q = out_quantizer(ref, rng, pow2)
            got, path, want = run_both(lambda: fn(a, output_quantizer=q))
            assert path == name + ":integer", (name, path, q.scale, q.offset)
            # The table is built by the simulated path itself: exact for every op.
            assert_exact(got, want, "%s %s" % (name, shape))
        for name in ("tanh", "rsqrt"):  # table ops too (GPT-2's tanh GELU, Llama's RMS norm)
            fn = getattr(F, name)
            with torch.no_grad():
                ref = simulated(lambda: fn(a, output_quantizer=None, strict_quantization=False))
                q = out_quantizer(torch.nan_to_num(ref, posinf=0.0, neginf=0.0), rng, pow2)
            got, path, want = run_both(lambda: fn(a, output_quantizer=q))
            assert path == name + ":integer", (name, path)
            assert_exact(got, want, "%s %s" % (name, shape))
        for exponent in (2, 3.0, 0.5):  # pow by a number (the functional op; x.pow(2) in RMSNorm)
            with torch.no_grad():
                ref = simulated(lambda: F.pow(a, exponent, output_quantizer=None, strict_quantization=False))
                q = out_quantizer(torch.nan_to_num(ref), rng, pow2)
            got, path, want = run_both(lambda: F.pow(a, exponent, output_quantizer=q))
            assert path == "pow:integer", (exponent, path)
            assert_exact(got, want, "pow %s %s" % (exponent, shape))


def test_activations_with_options_are_tables_equal_to_the_simulation():
    """The activations of torch.nn.functional with number options (leaky_relu's slope,
    hardtanh's bounds, elu's alpha, softplus's beta and threshold, clamp's bounds) and the
    other elementwise functions of one input (relu6, hardswish, hardsigmoid, mish, erf,
    sqrt) run as tables of the 256 codes, built by the simulated path itself: onto an
    output grid equal to it, with a float result within its float steps. A tensor bound of
    clamp is not a table: the simulated path computes it."""
    need_c()
    rng = random.Random(83)
    calls = [
        ("leaky_relu", lambda t, **k: F.leaky_relu(t, 0.2, **k), lambda t: TF.leaky_relu(t, 0.2)),
        ("leaky_relu", lambda t, **k: F.leaky_relu(t, **k), lambda t: TF.leaky_relu(t)),
        ("hardtanh", lambda t, **k: F.hardtanh(t, -0.5, 2.0, **k), lambda t: TF.hardtanh(t, -0.5, 2.0)),
        ("relu6", lambda t, **k: F.relu6(t, **k), lambda t: TF.relu6(t)),
        ("elu", lambda t, **k: F.elu(t, alpha=0.7, **k), lambda t: TF.elu(t, alpha=0.7)),
        ("hardswish", lambda t, **k: F.hardswish(t, **k), lambda t: TF.hardswish(t)),
        ("hardsigmoid", lambda t, **k: F.hardsigmoid(t, **k), lambda t: TF.hardsigmoid(t)),
        ("mish", lambda t, **k: F.mish(t, **k), lambda t: TF.mish(t)),
        ("softplus", lambda t, **k: F.softplus(t, beta=2, threshold=3, **k), lambda t: TF.softplus(t, 2, 3)),
        ("erf", lambda t, **k: F.erf(t, **k), lambda t: torch.erf(t)),
        ("sqrt", lambda t, **k: F.sqrt(t, **k), lambda t: torch.sqrt(t)),
        ("clamp", lambda t, **k: F.clamp(t, -0.25, **k), lambda t: torch.clamp(t, -0.25)),
        ("clamp", lambda t, **k: F.clamp(t, max=0.3, **k), lambda t: t.clamp(max=0.3)),
    ]
    for shape in [(7,), (3, 5, 9), (2, 4, 6, 5)]:
        x = act(shape, rng, zp=rng.choice([None, 0, -128]))
        for name, fn, torch_call in calls:
            with torch.no_grad():
                ref = simulated(lambda: fn(x, output_quantizer=None, strict_quantization=False))
                q = out_quantizer(torch.nan_to_num(ref, nan=0.0), rng, False)
            got, path, want = run_both(lambda: fn(x, output_quantizer=q))
            assert path == name + ":integer", (name, shape, path)
            assert_exact(got, want, "%s %s" % (name, shape))
            with ff.strict_quantization(False):
                got, path, want = run_both(lambda: torch_call(x))
            assert path == name + ":integer", (name, shape, path)
            assert type(got) is torch.Tensor and got.shape == want.shape, name
            assert_float_table_close(got, want, x, "%s %s, float result" % (name, shape))
    bound = torch.full((9,), 0.1)
    x = act((3, 9), rng)
    with torch.no_grad():
        ref = simulated(lambda: F.clamp(x, bound, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng, False)
    got, path, want = run_both(lambda: F.clamp(x, bound, output_quantizer=q))
    assert path != "clamp:integer", path
    assert_exact(got, want, "clamp by a tensor")


def assert_float_table_close(got, want, x, what):
    """Float results of a table against the simulation's: torch's scalar code (the last
    elements of a thread's range) rounds its own way, a few float steps of the values
    around (gelu's tanh form of a large negative input cancels to ~1e-7 or to 0); anywhere
    else equal."""
    same = (got == want) | (got.isnan() & want.isnan())  # (infinities and NaN of rsqrt, pow)
    diff = torch.where(same, torch.zeros_like(got), got - want).double().abs()
    bound = 4e-7 * (1.0 + x.dequantize().double().abs() + want.double().abs().nan_to_num(posinf=0.0))
    assert bool((diff <= bound).all()), "%s: %g from the simulation" % (what, float(diff.max()))
    assert int((diff != 0).sum()) <= 64, "%s: %d elements differ" % (what, int((diff != 0).sum()))


def test_add_of_channels_last_operands_stays_channels_last():
    """add / mul of two channels_last QuantizedTensors of one shape (a residual add of two
    conv outputs) runs over their NHWC memory: the simulation's integers, and a
    channels_last result as torch's add of the dequantized operands gives (no transposing
    copy of either operand); mixed layouts and broadcasts take the dense path, same values."""
    need_c()
    rng = random.Random(71)
    for trial in range(24):
        shape = (rng.randint(1, 2), rng.randint(2, 20), rng.randint(2, 9), rng.randint(2, 9))
        a, b = act(shape, rng, pow2=trial % 3 == 0), act(shape, rng, pow2=trial % 3 == 0)
        cl = trial % 4
        if cl in (0, 1):
            a = QuantizedTensor(a.raw_data.contiguous(memory_format=torch.channels_last), a.quantization_context)
        if cl in (0, 2):
            b = QuantizedTensor(b.raw_data.contiguous(memory_format=torch.channels_last), b.quantization_context)
        op = F.add if trial % 2 else F.mul
        with torch.no_grad():
            ref = simulated(lambda: op(a, b, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng, pow2=trial % 3 == 0)
        got, path, want = run_both(lambda: op(a, b, output_quantizer=q))
        assert path and path.endswith(":integer"), (trial, path)
        assert_exact(got, want, "trial %d layouts %d" % (trial, cl))
        if cl == 0:
            assert got.raw_data.is_contiguous(memory_format=torch.channels_last), trial
            assert want.dequantize().is_contiguous(memory_format=torch.channels_last), trial


def test_unary_ops_with_a_float_result_are_float_tables():
    """A unary op of a per-tensor 8-bit input without an output quantizer (``F.gelu(x)`` in
    model code autoquant left as it was) gives floats: looked up in a table of the op on the
    256 dequantized codes. Equal to the simulation's floats (dequantize, the op) except
    where torch computes an element another way (its scalar code at the end of a range):
    there within a few float steps; under strict quantization, with autograd on or with a half-precision
    dequantized dtype the simulated path runs, as before."""
    need_c()
    rng = random.Random(41)
    ops = [
        ("relu", lambda t: torch.relu(t)),
        ("gelu", lambda t: TF.gelu(t)),
        ("gelu", lambda t: TF.gelu(t, approximate="tanh")),
        ("sigmoid", lambda t: torch.sigmoid(t)),
        ("silu", lambda t: TF.silu(t)),
        ("exp", lambda t: torch.exp(t)),
        ("sin", lambda t: torch.sin(t)),
        ("cos", lambda t: torch.cos(t)),
        ("gelu", lambda t: F.gelu(t, output_quantizer=None, strict_quantization=False)),
        ("dropout", lambda t: F.dropout(t, 0.2, False, output_quantizer=None, strict_quantization=False)),
        ("pow", lambda t: t.pow(2)),
        ("pow", lambda t: torch.pow(t, 0.5)),
        ("rsqrt", lambda t: torch.rsqrt(t)),
        ("tanh", lambda t: torch.tanh(t)),
    ]
    for shape in [(7,), (2, 3, 65), (128, 1024), (1, 4, 197, 197)]:
        for name, op in ops:
            x = act(shape, rng, zp=rng.choice([None, 0, -128]))
            with ff.strict_quantization(False):
                got, path, want = run_both(lambda: op(x))
            what = "%s %s" % (name, shape)
            assert path == name + ":integer", (what, path)
            assert type(got) is torch.Tensor and got.dtype == torch.float32 and got.shape == want.shape, what
            assert_float_table_close(got, want, x, what)
    # channels_last codes give a channels_last result with the same values
    x = act((2, 3, 5, 4), rng)
    x = QuantizedTensor(x.raw_data.contiguous(memory_format=torch.channels_last), x.quantization_context)
    with ff.strict_quantization(False):
        got, path, want = run_both(lambda: torch.sigmoid(x))
    assert path == "sigmoid:integer" and got.is_contiguous(memory_format=torch.channels_last)
    assert_float_table_close(got, want, x, "sigmoid, channels_last")
    # the simulated path where the table does not apply
    x = act((4, 9), rng)
    with torch.no_grad():
        try:
            with ff.strict_quantization(True):
                TF.gelu(x)
        except QuantizationError:
            pass
        else:
            raise AssertionError("strict quantization lets an implicit dequantization through")
        half = QuantizedTensor(x.raw_data, x.quantization_context.with_changes(dequantize_dtype=torch.bfloat16))
        _integer._local.last = None
        with ff.strict_quantization(False):
            h = torch.relu(half)
        assert _integer.last_path() != "relu:integer" and h.dtype == torch.bfloat16
    _integer._local.last = None
    with ff.strict_quantization(False):
        TF.gelu(x)  # autograd on
    assert _integer.last_path() != "gelu:integer", "autograd on: the simulated path"


def test_cat_onto_a_static_grid_equals_the_simulation():
    """``cat`` of per-tensor 8-bit inputs with a static output quantizer (the rotary
    embedding's ``cat((-x2, x1), dim=-1)``): each input's codes requantized by table, then
    concatenated: the simulation's integers exactly, for any dim, grids, zero points and
    storage, ties included; an input on the output's own grid is copied as it is. Float
    output, a float or per-channel input, or a non-int dim: the simulated path."""
    need_c()
    rng = random.Random(43)
    for trial in range(24):
        pow2 = trial % 3 == 0
        shape = rng.choice([(5,), (2, 3, 4), (1, 4, 16, 8), (3, 1, 7)])
        dim = rng.randrange(-len(shape), len(shape))
        parts = []
        for _ in range(rng.choice([1, 2, 3])):
            s = list(shape)
            s[dim] = rng.randint(1, 4)
            parts.append(act(tuple(s), rng, pow2=pow2, storage=rng.choice([None, torch.int8])))
        with torch.no_grad():
            ref = simulated(lambda: F.cat(parts, dim, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng, pow2)
        if trial % 4 == 1:  # the first input already on the output's grid
            q = LinearQuantizer(8, symmetric=False)
            q.quantization_range = (-1.0, 1.0)
            with torch.no_grad():
                parts[0] = q(parts[0].dequantize())
        got, path, want = run_both(lambda: F.cat(tuple(parts), dim=dim, output_quantizer=q))
        assert path == "cat:integer", (trial, path)
        assert_exact(got, want, "cat trial %d shape %s dim %d" % (trial, shape, dim))
    a, b, w = act((2, 3), rng), act((2, 3), rng), weight((2, 3), rng)
    q = out_quantizer(torch.randn(4, 3), rng)
    for what, fn in (("float output", lambda: F.cat((a, b), 0, output_quantizer=None, strict_quantization=False)),
                     ("a float input", lambda: F.cat((a, b.dequantize()), 0, output_quantizer=q,
                                                     strict_quantization=False)),
                     ("per-channel input", lambda: F.cat((a, w), 0, output_quantizer=q,
                                                         strict_quantization=False))):
        got, path, want = run_both(fn)
        assert path != "cat:integer", what
        assert torch.equal(got.dequantize() if isinstance(got, QuantizedTensor) else got,
                           want.dequantize() if isinstance(want, QuantizedTensor) else want), what


def random_pool_args(rng):
    """Random max_pool2d arguments torch accepts (padding at most half the kernel), in the
    forms model code writes them: ints, pairs, one-element lists, stride None."""
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    form = rng.randrange(3)
    kernel = kh if form == 0 else (kh, kw) if form == 1 else [kh]
    kh, kw = (kh, kh) if form != 1 else (kh, kw)
    stride = rng.choice([None, rng.randint(1, 3), (rng.randint(1, 3), rng.randint(1, 3)), []])
    padding = rng.choice([0, (rng.randint(0, kh // 2), rng.randint(0, kw // 2)), min(kh, kw) // 2])
    dilation = rng.choice([1, 1, (rng.randint(1, 3), rng.randint(1, 2)), 2])
    return kernel, stride, padding, dilation, rng.random() < 0.5


def test_max_pool2d_equals_torch_and_the_simulation():
    """max_pool2d picks elements, so libffqrt's result is exact: a float32 input (functional
    op, NCHW or channels_last, 3-D or 4-D, NaN and infinities) equals torch's; a quantized
    input is pooled on its codes and then equals the simulation (dequantize, torch's pool,
    the output quantizer) bit for bit, onto a static grid, its own grid (shared codes), a
    float result, or through another quantizer. What the kernel does not take (indices,
    odd argument types, a per-channel input, windows wholly outside the image) is the
    simulation's; what torch refuses still raises torch's error."""
    need_c()
    rng = random.Random(61)
    done = 0
    for trial in range(160):
        shape = (rng.randint(1, 2), rng.randint(1, 9), rng.randint(1, 17), rng.randint(1, 17))
        if trial % 5 == 4:
            shape = shape[1:]
        args = random_pool_args(rng)
        x = torch.randn(shape) * 3
        x[torch.rand(shape) < 0.02] = float("nan")
        x[torch.rand(shape) < 0.02] = float("-inf")
        if len(shape) == 4 and trial % 3 == 0:
            x = x.contiguous(memory_format=torch.channels_last)
        try:
            want = TF.max_pool2d(x, *args)
        except RuntimeError:  # torch refuses these arguments: so does the functional op
            try:
                with torch.no_grad():
                    F.max_pool2d(x, *args)
            except RuntimeError:
                continue
            raise AssertionError("trial %d: accepted what torch refuses: %s %s" % (trial, shape, args))
        with torch.no_grad():
            got = F.max_pool2d(x, *args)
        assert got.shape == want.shape and torch.equal(got.isnan(), want.isnan()), (trial, shape, args)
        assert torch.equal(got.nan_to_num(0.5), want.nan_to_num(0.5)), (trial, shape, args)
        assert got.is_contiguous(memory_format=torch.channels_last) == want.is_contiguous(
            memory_format=torch.channels_last) or got.dim() == 3, (trial, "layout")
        qx = act(shape, rng, pow2=trial % 4 == 0, storage=rng.choice([None, torch.int8]))
        if len(shape) == 4 and trial % 2:
            qx = QuantizedTensor(qx.raw_data.contiguous(memory_format=torch.channels_last), qx.quantization_context)
        with torch.no_grad():
            ref = simulated(lambda: TF.max_pool2d(qx.dequantize(), *args))
        kind = trial % 4
        q = (out_quantizer(ref, rng, pow2=trial % 8 == 0) if kind == 0 else None if kind == 1
             else ff.nn.LinearQuantizer(8, symmetric=False) if kind == 2 else "own")
        if kind == 2:
            q.quantization_range = (-1.0, 1.0)
            q.quantized_dtype = rng.choice([None, torch.int8])
        if q == "own":  # the input's own grid: the codes are shared, not looked up
            q = LinearQuantizer(8, symmetric=False)
            q.quantization_range = (-2.0, 2.0)
            with torch.no_grad():
                qx = q(qx.dequantize())
        # a window wholly outside the image (dilated taps around it) gives -inf, which no
        # code holds: such pools stay simulated
        empty = bool(TF.max_pool2d(torch.zeros(shape), *args).isinf().any())
        got, path, want = run_both(lambda: F.max_pool2d(qx, *args, output_quantizer=q))
        assert (path == "max_pool2d:integer") != empty, (trial, path)
        assert_exact(got, want, "max_pool2d trial %d %s %s" % (trial, shape, args))
        got, path, want = run_both(lambda: TF.max_pool2d(qx, *args))  # torch's call on a QuantizedTensor
        assert (path == "max_pool2d:integer") != empty and type(got) is torch.Tensor, (trial, path)
        assert_exact(got, want, "torch max_pool2d trial %d" % trial)
        done += 1
    assert done > 100, done
    # odd inputs: an empty batch, a view at an offset into its storage, strided and
    # transposed views, 1 x 1 images
    base = torch.randn(3, 4, 9, 10)
    for what, x in (("empty batch", torch.randn(0, 3, 5, 5)), ("offset view", base[1:]),
                    ("strided view", base[:, :, ::2]), ("transposed view", base.transpose(2, 3)),
                    ("1x1 image", torch.randn(2, 3, 1, 1)), ("unaligned offset", base.reshape(-1)[3:3 + 2 * 4 * 9 * 10]
                                                              .view(2, 4, 9, 10))):
        for args in ((2,), (3, 1, 1), ((1, 2), (2, 1), 0, 1, True)):
            try:
                want = TF.max_pool2d(x, *args)
            except RuntimeError:
                continue
            with torch.no_grad():
                got = F.max_pool2d(x, *args)
            assert torch.equal(got, want), (what, args)
    qx = act((1, 2, 6, 6), rng)
    w = weight((4, 2, 3, 3), rng)
    for what, fn in (("indices", lambda: TF.max_pool2d(qx, 2, return_indices=True)),
                     ("float kernel size", lambda: TF.max_pool2d(qx, 2.0)),
                     ("per-channel input", lambda: TF.max_pool2d(w, 2))):
        _integer._local.last = None
        try:
            with torch.no_grad():
                got = fn()
        except (RuntimeError, TypeError):
            got = None  # torch's own refusal
        assert _integer.last_path() != "max_pool2d:integer", what
        if what == "indices":
            assert isinstance(got, tuple) and torch.equal(got[0], TF.max_pool2d(qx.dequantize(), 2)), what
    # autograd: a float input that needs a gradient keeps torch's op (and its backward)
    x = torch.randn(1, 2, 5, 5, requires_grad=True)
    F.max_pool2d(x, 2, output_quantizer=None, strict_quantization=False).sum().backward()
    assert x.grad is not None and float(x.grad.sum()) == 4 * 2


class _PassQuantizer(ff.nn.Quantizer):
    """A quantizer that is not a stub and returns its input (what a rounding quantizer sees)."""

    def forward(self, data):
        return data


def test_gelu_tanh_of_float_input_in_c():
    """GELU's tanh approximation of a plain float32 input (what a partly quantized model's
    activation sees) followed by an output quantizer is computed by libffqrt while the integer
    path is on: within 2^-22 max(1, |x|) of the exact function (torch's own values are as far
    from it), the same bits on every thread count, channels_last kept, and a quantizer after
    it within a step of the simulated path. Small inputs, erf GELU, autograd, other layouts and
    dtypes, the integer path off, and no output quantizer or a stub (an unquantized model
    keeps the float model's bits) stay torch's, bit for bit."""
    need_c()
    rng = random.Random(71)

    def exact(x):
        xd = x.double()
        return xd / (1 + torch.exp(-2 * math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3)))

    def gelu(x, output_quantizer=_PassQuantizer(), **kw):
        _integer._local.last = None
        with torch.no_grad():
            return F.gelu(x, approximate=kw.pop("approximate", "tanh"), output_quantizer=output_quantizer,
                          strict_quantization=False, **kw), _integer.last_path()

    taken = 0
    for shape in ((128, 3072), (4096,), (5001,), (3, 7, 257), (2, 8, 17, 19)):
        x = torch.randn(shape) * rng.choice([0.5, 3.0, 8.0])
        x.view(-1)[:6] = torch.tensor([0.0, -0.0, -12.0, 12.0, float("nan"), float("inf")])
        for layout in ("contiguous", "channels_last"):
            if layout == "channels_last":
                if x.dim() != 4:
                    continue
                x = x.contiguous(memory_format=torch.channels_last)
            got, path = gelu(x)
            assert path == "gelu_tanh:integer", (shape, layout, path)
            taken += 1
            assert got.shape == x.shape and got.stride() == x.stride(), (shape, layout)
            ref, finite = exact(x), x.isfinite()
            bound = torch.clamp(x.double().abs(), min=1.0) * 2.0 ** -22
            assert bool(((got.double() - ref).abs() <= bound)[finite].all()), (shape, layout)
            want = TF.gelu(x, approximate="tanh")
            assert bool(((got.double() - want.double()).abs() <= 4 * bound)[finite].all()), (shape, "vs torch")
            flat = got.reshape(-1)
            assert flat[4].isnan() and flat[5] == float("inf"), "NaN and inf"
            assert str(float(flat[1])) == "-0.0" and float(flat[2]) == 0.0
            for threads in (1, 3):
                other = _ffqrt.act_f32(x, "gelu_tanh", threads=threads)
                assert torch.equal(other.view(torch.int32), got.view(torch.int32)), (shape, threads)
    assert taken == 6
    # a quantizer after it: within one step of the simulated path
    x = torch.randn(64, 256) * 2
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-0.2, 6.0)
    got, path, want = run_both(lambda: F.gelu(x, approximate="tanh", output_quantizer=q))
    assert path == "gelu_tanh:integer", path
    assert_step(got, want, "gelu_tanh then a quantizer")
    # torch's own computation, bit for bit
    big = torch.randn(64, 256) * 3
    for what, x, approximate, off in (("small", torch.randn(4095) * 3, "tanh", False), ("erf", big, "none", False),
                                      ("transposed", big.t(), "tanh", False),
                                      ("float64", big.double(), "tanh", False),
                                      ("integer path off", big, "tanh", True)):
        def call():
            return gelu(x, approximate=approximate)
        got, path = simulated(call) if off else call()
        assert path is None and torch.equal(got, TF.gelu(x, approximate=approximate)), (what, path)
    xg = big.clone().requires_grad_(True)
    _integer._local.last = None
    F.gelu(xg, approximate="tanh", output_quantizer=_PassQuantizer(), strict_quantization=False).sum().backward()
    assert _integer.last_path() is None and xg.grad is not None, "autograd"
    # nothing rounds the result: the float model's bits (a generated class or nn.GELU's
    # quantized module with stubs only is bitwise the float model)
    for what, oq in (("no output quantizer", None), ("a stub", QuantizerStub())):
        got, path = gelu(big, output_quantizer=oq)
        assert path is None and torch.equal(got, TF.gelu(big, approximate="tanh")), (what, path)
    layer = ff.quantize_model(torch.nn.Sequential(torch.nn.GELU(approximate="tanh")))
    with torch.no_grad():
        assert torch.equal(layer(big), TF.gelu(big, approximate="tanh")), "nn.GELU with stubs"


def test_avg_pool2d_equals_torch_bit_for_bit():
    """A float32 NCHW input to the functional avg_pool2d (3-D or 4-D; padding counted or not,
    a divisor override, ceil_mode, NaN and magnitudes far apart, where the order of the sums
    shows) is pooled by libffqrt while the integer path is on, with torch's bits; channels_last
    inputs, autograd and the integer path off stay torch's; a quantized input (simulated:
    dequantized, pooled, quantized) gives the simulation's result."""
    need_c()
    rng = random.Random(67)
    calls = []
    done = 0
    with counted(_ffqrt, "avg_pool2d", calls):
        for trial in range(200):
            shape = (rng.randint(1, 2), rng.randint(1, 9), rng.randint(1, 17), rng.randint(1, 17))
            if trial % 5 == 4:
                shape = shape[1:]
            kernel, stride, padding, _, ceil_mode = random_pool_args(rng)
            include, divisor = rng.random() < 0.5, rng.choice([None, None, rng.randint(1, 9)])
            x = torch.randn(shape) * torch.exp(torch.randn(shape) * 3)
            x[torch.rand(shape) < 0.02] = float("nan")
            args = (kernel, stride, padding, ceil_mode, include, divisor)
            try:
                want = TF.avg_pool2d(x, *args)
            except RuntimeError:
                continue
            calls.clear()
            with torch.no_grad():  # the float implementation of the functional op, divisor override included
                got = F.FLOAT_IMPLS["avg_pool2d"](x, *args)
            assert calls, (trial, "not pooled in C")
            assert got.shape == want.shape and torch.equal(got.isnan(), want.isnan()), (trial, shape, args)
            assert torch.equal(got.nan_to_num(0.5), want.nan_to_num(0.5)), (trial, shape, args)
            with torch.no_grad():  # the functional op (its table's parameters)
                got = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, include)
            assert torch.equal(got.nan_to_num(0.5), TF.avg_pool2d(x, kernel, stride, padding, ceil_mode,
                                                                  include).nan_to_num(0.5)), (trial, "functional")
            done += 1
        assert done > 120, done
        x = torch.randn(1, 4, 9, 9)
        for what, fn in (("channels_last", lambda: F.avg_pool2d(x.contiguous(memory_format=torch.channels_last), 3, 2)),
                         ("integer path off", lambda: simulated(lambda: F.avg_pool2d(x, 3, 2)))):
            calls.clear()
            with torch.no_grad():
                got = fn()
            assert not calls and torch.equal(got, TF.avg_pool2d(x, 3, 2)), what
        xg = x.clone().requires_grad_(True)
        calls.clear()
        F.avg_pool2d(xg, 3, 2, output_quantizer=None, strict_quantization=False).sum().backward()
        assert not calls and xg.grad is not None, "autograd"
        qx = act((1, 3, 8, 8), rng)
        q = out_quantizer(TF.avg_pool2d(qx.dequantize(), 2, 2), rng)
        got, _, want = run_both(lambda: F.avg_pool2d(qx, 2, 2, output_quantizer=q))
        assert_exact(got, want, "quantized input")


def test_quantize_model_max_pool_surrogate_runs_the_kernel():
    """quantize_model's surrogates of nn.MaxPool2d and nn.AvgPool2d compute a float input in
    libffqrt while the integer path is on (the float forward's values, exactly) and torch's
    op otherwise; a max pool with return_indices is torch's forward."""
    need_c()

    class Net(torch.nn.Module):
        def __init__(self, indices=False):
            super().__init__()
            self.pool = torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True, return_indices=indices)
            self.avg = torch.nn.AvgPool2d(2, 1, 1, count_include_pad=False)

        def forward(self, x):
            y = self.pool(x)
            return (self.avg(y[0]), y[1]) if isinstance(y, tuple) else self.avg(y)

    x = torch.randn(2, 5, 13, 11)
    model = Net()
    want = model(x)
    ff.quantize_model(model, extra_conversion=ff.surrogate_quantized_modules(model))
    calls = []
    real, real_avg = _ffqrt.max_pool2d, _ffqrt.avg_pool2d
    _ffqrt.max_pool2d = lambda *a, **k: calls.append("max") or real(*a, **k)
    _ffqrt.avg_pool2d = lambda *a, **k: calls.append("avg") or real_avg(*a, **k)
    try:
        with torch.no_grad():
            got = model(x)
            assert torch.equal(got, want) and calls == ["max", "avg"], ("integer path", calls)
            calls.clear()
            with _integer.integer_execution(False):
                assert torch.equal(model(x), want) and not calls, "simulated path"
            indexed = Net(indices=True)
            ff.quantize_model(indexed, extra_conversion=ff.surrogate_quantized_modules(indexed))
            values, where = indexed(x)
            assert torch.equal(values, want) and where.dtype == torch.int64 and calls == ["avg"], "indices"
    finally:
        _ffqrt.max_pool2d, _ffqrt.avg_pool2d = real, real_avg


def test_dropout_and_embedding_match_simulation():
    """Dropout outside training is the identity on the codes (by table); an embedding
    gathers rows of the quantized table before dequantizing them. Both bit-identical to the
    simulated path; training dropout, max_norm and autograd stay simulated."""
    need_c()
    rng = random.Random(11)
    torch.manual_seed(11)
    for i in range(8):
        pow2 = i % 2 == 0
        a = act(rng.choice([(7,), (2, 3, 4), (33, 17)]), rng, pow2=pow2)
        q = out_quantizer(a.dequantize(), rng, pow2)
        for p, training in ((0.3, False), (0.0, True), (0.0, False)):
            got, path, want = run_both(lambda: F.dropout(a, p, training, output_quantizer=q))
            assert path == "dropout:integer", (p, training, path)
            assert_exact(got, want, "dropout p=%s training=%s" % (p, training))
        _integer._local.last = None
        with torch.no_grad():
            F.dropout(a, 0.5, True, output_quantizer=q)
        assert _integer.last_path() != "dropout:integer", "training dropout is random: simulated"
    for i in range(12):
        n, d = rng.choice([(1, 1), (10, 3), (97, 16), (300, 33)])
        per_channel = i % 3 != 0
        table = weight((n, d), rng, per_channel=per_channel)
        if i % 4 == 1:  # an asymmetric table: offsets per row
            w = torch.randn(n, d) + 0.5
            scale = (w.amax(1) - w.amin(1)).clamp_min(1e-3) / 255
            offset = -torch.round(-128 - w.amin(1) / scale)
            table = quantize_per_channel(w, scale, offset, axis=0)
        idx = torch.randint(0, n, rng.choice([(5,), (2, 3), (0,), (1, 1, 4)]))
        if i % 2:
            idx = idx.to(torch.int32)
        ref = simulated(lambda: F.embedding(idx, table, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng) if ref.numel() else None
        for oq in (None, q):
            got, path, want = run_both(lambda: F.embedding(idx, table, output_quantizer=oq, strict_quantization=False))
            assert path == "embedding:integer", path
            assert_exact(got, want, "embedding %dx%d per_channel=%s idx %s out %s" % (
                n, d, per_channel, tuple(idx.shape), oq is not None))
        _integer._local.last = None
        with torch.no_grad():
            F.embedding(idx, table, max_norm=1.0, output_quantizer=None, strict_quantization=False)
        assert _integer.last_path() != "embedding:integer", "max_norm rewrites the table: simulated"
        _integer._local.last = None
        F.embedding(idx, table, output_quantizer=None, strict_quantization=False)  # autograd on
        assert _integer.last_path() != "embedding:integer"
    with torch.no_grad():  # an index out of range is still an error
        try:
            F.embedding(torch.tensor([n]), table, output_quantizer=None, strict_quantization=False)
        except (IndexError, RuntimeError):
            pass
        else:
            raise AssertionError("an index past the table went unnoticed")


def test_requantization_of_float_raw_data_by_table():
    """A QuantizedTensor whose raw data are float grid values (the default storage) through
    another 8-bit quantizer: by table on the integer path, bit-identical to dequantize and
    quantize."""
    need_c()
    rng = random.Random(12)
    for i in range(10):
        a = act(rng.choice([(9,), (4, 33)]), rng, pow2=i % 2 == 0)
        assert a.raw_data.dtype == torch.float32
        q = out_quantizer(a.dequantize(), rng, pow2=i % 2 == 0)
        got, path, want = run_both(lambda: q(a))
        assert path == "requantize:integer", path
        assert_exact(got, want, "requantize %d" % i)
        # a result carrying its codes goes through the quantizer's own shortcut once the
        # table exists; the same integers as requantizing it in the simulation
        q2 = out_quantizer(got.dequantize(), rng, pow2=i % 2 == 0)
        for _ in range(2):
            again, path, want2 = run_both(lambda: q2(got))
            assert path == "requantize:integer", path
            assert_exact(again, want2, "requantize of a kernel result %d" % i)
        with torch.no_grad():
            got.raw_data.view(-1)[0] = 127.0 if float(got.raw_data.view(-1)[0]) != 127.0 else -128.0
        changed, path, want3 = run_both(lambda: q2(got))  # codes now stale: not read
        assert_exact(changed, want3, "requantize after an in-place write %d" % i)


def test_requantization_onto_the_same_grid_shares_the_integers():
    """The next layer's input quantizer calibrated on this layer's output has the same grid:
    requantization is the identity, and the result shares the input's raw data and codes
    (no copy), with the values, storage dtype and later results of the simulated path."""
    need_c()
    rng = random.Random(17)
    x = act((6, 16), rng)
    w, w2 = weight((8, 16), rng), weight((3, 8), rng)
    for storage in (None, torch.int8):
        with torch.no_grad():
            ref = simulated(lambda: F.linear(x, w, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng)
        q.quantized_dtype = storage
        same = LinearQuantizer(8, symmetric=False, quantized_dtype=storage)
        same.quantization_range = q.quantization_range
        other = LinearQuantizer(8, symmetric=False, quantized_dtype=torch.float32)  # float32 raw data: a copy
        other.quantization_range = q.quantization_range
        with torch.no_grad():
            y = F.linear(x, w, output_quantizer=q)
            # the first call makes the table (a copy); later ones share; float32 storage copies
            for target, shares in ((same, None), (same, True), (other, False)):
                got, path, want = run_both(lambda: target(y))
                assert path == "requantize:integer", path
                assert_exact(got, want, "identity requantization, storage %s" % storage)
                assert got.dtype == want.dtype
                if shares is not None:
                    assert (got.raw_data.data_ptr() == y.raw_data.data_ptr()) == shares, (storage, shares)
                    assert (_integer._activation(got).raw.data_ptr() == _integer._activation(y).raw.data_ptr()) == shares
                z, path, want_z = run_both(lambda: F.linear(got, w2, output_quantizer=None))
                assert path == "linear:integer" and torch.allclose(z, want_z, rtol=1e-4, atol=1e-5)


def test_dropout_onto_its_own_grid_shares_the_integers():
    """Dropout outside training is the identity: with its output quantizer calibrated on its
    input (the same grid) the result shares the input's raw data and codes, as an identity
    requantization does; onto another grid it is a table lookup. Values as simulated."""
    need_c()
    rng = random.Random(23)
    x = act((6, 16), rng)
    w = weight((8, 16), rng)
    with torch.no_grad():
        ref = simulated(lambda: F.linear(x, w, output_quantizer=None, strict_quantization=False))
    q = out_quantizer(ref, rng)
    same = LinearQuantizer(8, symmetric=False)
    same.quantization_range = q.quantization_range
    other = LinearQuantizer(8, symmetric=False)
    lo, hi = q.quantization_range
    other.quantization_range = (float(lo) * 1.3, float(hi) * 0.9)
    for mode in (torch.no_grad, torch.inference_mode):
        with mode():
            y = F.linear(x, w, output_quantizer=q)
            for target, shares in ((same, True), (other, False)):
                for _ in range(2):  # the first call makes the table
                    got, path, want = run_both(lambda: F.dropout(y, 0.1, False, output_quantizer=target))
                    assert path == "dropout:integer", path
                    assert_exact(got, want, "dropout onto %s grid" % ("its own" if shares else "another"))
                assert (got.raw_data.data_ptr() == y.raw_data.data_ptr()) == shares, shares
                # the codes ride along (under inference_mode too): the next quantizer reads them
                assert _CODES in got.__dict__, (mode.__name__, shares)
                assert (_integer._activation(got).raw.data_ptr() == _integer._activation(y).raw.data_ptr()) == shares


def test_dequantize_reads_attached_codes():
    """QuantizedTensor.dequantize of a result carrying its int8 codes converts those in C:
    the same floats as the simulated path's dequantization of the raw data, for kernel
    outputs (channels_last conv results too) and quantizer results, under no_grad and
    inference_mode; stale codes (raw data written in place) are not read."""
    need_c()
    rng = random.Random(15)
    for i in range(6):
        x = act((2, 3, 7, 7), rng, pow2=i % 2 == 0)
        w = weight((5, 3, 3, 3), rng)
        with torch.no_grad():
            ref = simulated(lambda: F.conv2d(x, w, None, 1, 1, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng, pow2=i % 2 == 0)
        mode = torch.inference_mode if i % 3 == 0 else torch.no_grad
        with mode():
            y = F.conv2d(x, w, None, 1, 1, output_quantizer=q)
            assert _CODES in y.__dict__
            calls = []
            with counted(qt_module, "_dequantize_codes", calls):
                got = y.dequantize()
            assert calls, "the attached codes were not read"
            want = simulated(lambda: y._quantization_context.dequantize(y.raw_data))
            assert got.dtype == want.dtype and torch.equal(got, want), "conv result %d" % i
            qi = LinearQuantizer(8, symmetric=i % 2 == 0)
            qi.quantization_range = (-1.5, 2.5)
            z = qi(torch.randn(4, 9))
            assert _CODES in z.__dict__ and torch.equal(z.dequantize(), z._quantization_context.dequantize(z.raw_data))
        if mode is torch.no_grad:
            with torch.no_grad():
                z.raw_data[0, 0] = 5.0 if float(z.raw_data[0, 0]) != 5.0 else 6.0
                assert torch.equal(z.dequantize(), z._quantization_context.dequantize(z.raw_data))


def test_asymmetric_quantizers_under_inference_mode():
    """Repeated asymmetric per-tensor quantization and dequantization under
    torch.inference_mode (the zero point kept for C was once an inference tensor, whose
    version counter the second call tried to read)."""
    need_c()
    from fastforward.quantization.affine import _kernels

    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-1.0, 3.0)
    x = torch.randn(64)
    _kernels._zero_point_tensors.clear()  # the first use of this zero point: under inference_mode
    got = []
    for _ in range(3):
        with torch.inference_mode():
            got.append(q(x).dequantize())
    with torch.no_grad():
        want = q(x).dequantize()
    assert all(torch.equal(g, want) for g in got)


class _MaskedScores(torch.nn.Module):
    """Scores plus an additive mask filled with finfo.min, as transformers' attention does."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 8)
        mask = torch.zeros(8)
        mask[5:] = torch.finfo(torch.float32).min
        self.register_buffer("mask", mask)

    def forward(self, x):
        scores = self.proj(x)
        return torch.softmax(scores + self.mask, dim=-1)


def test_calibration_leaves_additive_masks_unquantized():
    """A quantizer whose calibrated range reaches a mask's fill value (finfo.min) would put
    every ordinary value on zero; calibration replaces such quantizers by stubs, names them
    in a warning, and the masked softmax stays close to the float one."""
    import warnings

    from fastforward.quantization import workflow

    torch.manual_seed(16)
    model = _MaskedScores()
    float_model = copy.deepcopy(model)
    x = torch.randn(4, 8)
    with torch.no_grad():
        want = model(x)
    ff.quantize(model, weights=8, activations=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad(), ff.calibration(model):
            model(x)
    notes = [str(w.message) for w in caught if "left unquantized" in str(w.message)]
    assert len(notes) == 1 and "quantizer" in notes[0], [str(w.message) for w in caught]
    acts = [q for _, q in ff.find_quantizers(model, "**/[quantizer:activation]").named_modules()]
    reach = [max(float(q.quantization_range[0].abs()), float(q.quantization_range[1].abs()))
             for q in acts if not q.is_stub()]
    assert reach and max(reach) < workflow.MASK_MAGNITUDE and any(q.is_stub() for q in acts)
    with torch.no_grad():
        got = model(x)
    got = got.dequantize() if isinstance(got, QuantizedTensor) else got
    assert float(got[:, 5:].abs().max()) == 0.0, "masked positions leak"
    assert float((got - want).abs().max()) < 0.05
    with tempfile.TemporaryDirectory() as d:  # saved and loaded: the masks stay unquantized
        ff.save_quantization_state(model, name_or_path="masked", cache_dir=d)
        fresh = ff.quantize_model(float_model)
        ff.load_quantization_state(fresh, name_or_path="masked", cache_dir=d)
        with torch.no_grad():
            again = fresh(x)
        assert torch.equal(again.dequantize() if isinstance(again, QuantizedTensor) else again, got)


def test_results_are_stored_as_the_simulation_stores_them():
    """Kernel and requantization results keep the simulation's storage dtype: float32 raw
    data when the output quantizer names none (model code such as ``w.to(q.dtype)`` must see
    float32, as it does in the simulation), int8 when it asks for int8; the int8 codes ride
    along for the next kernel either way."""
    need_c()
    rng = random.Random(14)
    x = act((6, 16), rng)
    w = weight((8, 16), rng)
    for storage in (None, torch.int8, torch.float32):
        with torch.no_grad():
            ref = simulated(lambda: F.linear(x, w, output_quantizer=None, strict_quantization=False))
        q = out_quantizer(ref, rng)
        q.quantized_dtype = storage
        qn = out_quantizer(torch.relu(ref), rng)
        qn.quantized_dtype = storage
        for what, fn in (("linear", lambda: F.linear(x, w, output_quantizer=q)),
                         ("relu", lambda: F.relu(F.linear(x, w, output_quantizer=q), output_quantizer=qn)),
                         ("requantize", lambda: qn(F.linear(x, w, output_quantizer=q)))):
            got, path, want = run_both(fn)
            assert path is not None and path.endswith(":integer"), (what, path)
            assert got.dtype == want.dtype == (storage or torch.float32), (what, storage, got.dtype, want.dtype)
            assert_step(got, want, "%s stored as %s" % (what, storage))
            with torch.no_grad():
                assert _integer._activation(got).raw.dtype == torch.int8
                assert got.to(got.dtype).dtype == want.to(want.dtype).dtype


def test_views_of_kernel_results_keep_their_codes_under_inference_mode():
    """Under inference_mode a kernel's int8 output is an inference tensor (no version
    counter); the codes still ride on the result and on views of it (transpose, reshape),
    so the next kernel reads them instead of converting the float raw data again."""
    need_c()
    rng = random.Random(18)
    x, w, w2 = act((6, 16), rng), weight((8, 16), rng), weight((5, 6), rng)
    with torch.no_grad():
        q = out_quantizer(simulated(lambda: F.linear(x, w, output_quantizer=None, strict_quantization=False)), rng)
    with torch.inference_mode():
        y = F.linear(x, w, output_quantizer=q)
        codes = y.__dict__[_CODES].q8
        for v in (y.t(), y.reshape(2, 24).reshape(6, 8).t()):
            assert _CODES in v.__dict__
            assert _integer._activation(v).raw.data_ptr() == codes.data_ptr(), "the view's codes are the output's"
        got = F.linear(y.t(), w2, output_quantizer=None)
        want = simulated(lambda: F.linear(y.t(), w2, output_quantizer=None))
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-5)


def test_broadcast_shapes_as_torch():
    """_integer._broadcast (written out: torch.broadcast_shapes costs ~11 us a call) gives
    torch's shape, or None where torch raises."""
    rng = random.Random(5)
    for _ in range(3000):
        a = tuple(rng.choice([1, 1, 2, 3, 0]) for _ in range(rng.randint(0, 4)))
        b = tuple(rng.choice([1, 1, 2, 3, 0]) for _ in range(rng.randint(0, 4)))
        try:
            want = tuple(torch.broadcast_shapes(a, b))
        except RuntimeError:
            want = None
        assert _integer._broadcast(a, b) == want, (a, b, want)


def test_element_picking_ops_keep_their_codes():
    """Indexing, expand, narrow, select, flip, movedim, split, chunk and unbind of a per-tensor
    QuantizedTensor pick elements: on the integer path the codes go along (the same op on
    them), so a quantizer after them requantizes by table instead of quantizing floats
    (transformers' repeat_kv is x[:, :, None].expand(...).reshape(...)). Values, the codes
    the result carries and the next quantizer's result equal the simulation's, with float
    raw data (a quantizer's result) and int8 raw data (a kernel's)."""
    need_c()
    rng = random.Random(31)
    ops = [
        ("getitem basic", lambda t: t[:, 1:, None, ::2]),
        ("getitem ellipsis int", lambda t: t[..., 3]),
        ("getitem long tensor", lambda t: t[:, torch.tensor([2, 0, 2])]),
        ("getitem list", lambda t: t[[1, 0]]),
        ("getitem bool mask", lambda t: t[torch.tensor([True, False])]),
        ("repeat_kv", lambda t: t[:, :, None, :].expand(2, 3, 2, 8).reshape(2, 6, 8)),
        ("narrow", lambda t: t.narrow(2, 1, 4)),
        ("select", lambda t: t.select(1, 2)),
        ("flip", lambda t: t.flip(-1)),
        ("movedim", lambda t: t.movedim(0, -1)),
        ("split", lambda t: t.split(3, dim=-1)),
        ("split sizes", lambda t: t.split([5, 3], dim=-1)),
        ("chunk", lambda t: t.chunk(2, dim=0)),
        ("unbind", lambda t: t.unbind(1)),
    ]
    x = act((2, 3, 8), rng)
    w = weight((8, 8), rng, per_channel=False)
    with torch.no_grad():
        oq = out_quantizer(simulated(lambda: F.linear(x, w, output_quantizer=None, strict_quantization=False)), rng)
        kernel_out = F.linear(x, w, output_quantizer=oq)  # int8 raw data, codes attached
    assert kernel_out.raw_data.dtype == torch.int8
    floats = LinearQuantizer(8, symmetric=False)
    floats.quantization_range = (-1.3, 2.1)
    with torch.no_grad():
        float_raw = floats(torch.randn(2, 3, 8))  # float32 raw data, codes attached
    assert float_raw.raw_data.dtype == torch.float32 and _CODES in float_raw.__dict__
    nxt = LinearQuantizer(8, symmetric=False)
    nxt.quantization_range = (-0.9, 1.7)
    for source_name, source in (("kernel result", kernel_out), ("quantizer result", float_raw)):
        with torch.no_grad():
            codes = _integer._activation(source).raw
        for name, op in ops:
            what = "%s of a %s" % (name, source_name)
            with torch.no_grad(), ff.strict_quantization(False):
                got = op(source)
                want = simulated(lambda: op(source))
                parts = got if isinstance(got, tuple) else (got,)
                wants = want if isinstance(want, tuple) else (want,)
                picked = op(codes)
                picked = picked if isinstance(picked, tuple) else (picked,)
                assert len(parts) == len(wants) == len(picked), what
                for g, wv, c in zip(parts, wants, picked):
                    assert isinstance(g, QuantizedTensor), what
                    assert torch.equal(g.dequantize(), wv.dequantize()), what + ": values differ"
                    assert _CODES in g.__dict__, what + ": the codes were dropped"
                    assert torch.equal(_integer._activation(g).raw, c), what + ": the codes are not the op's"
                    requantized = nxt(g)
                    assert torch.equal(requantized.dequantize(), simulated(lambda: nxt(wv)).dequantize()), (
                        what + ": requantized differently")
    # an index that is itself quantized is not an index of the codes: not taken
    with torch.no_grad(), ff.strict_quantization(False):
        assert not _integer._shape_applies(float_raw, (slice(None), float_raw))
        assert not _integer._shape_applies(float_raw, torch.tensor([0.5]))


def test_calibrated_models_run_their_layer_plans():
    """ff.quantize switches activation quantization off with an override until calibration;
    a calibrated model must not keep it (a quantizer with an override takes the generic path
    on every call, never a layer plan). A calibration that raises leaves the switch as it
    was; calibrating again works."""
    need_c()
    from fastforward import _layer_plan

    torch.manual_seed(13)
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    ff.quantize(model, weights=8, activations=8)
    acts = [q for _, q in ff.find_quantizers(model, "**/[quantizer:activation]").named_modules() if not q.is_stub()]
    assert acts and all(q.__dict__.get("_quantizer_overrides") for q in acts)
    x = torch.randn(5, 16)
    try:
        with torch.no_grad(), ff.calibration(model):
            raise KeyError("stop")
    except KeyError:
        pass
    with torch.no_grad():
        assert not isinstance(model(x), QuantizedTensor), "still off after a calibration that raised"
    assert all(q.__dict__.get("_quantizer_overrides") for q in acts)
    with torch.no_grad(), ff.calibration(model):
        model(x)
    assert not any(q.__dict__.get("_quantizer_overrides") for q in acts), "the switch stays attached"
    linears = [m for m in model.modules() if isinstance(m, ff.nn.QuantizedLinear)]
    with torch.no_grad():
        got = model(x)
        want = simulated(lambda: model(x))
    assert isinstance(got, QuantizedTensor)
    assert all(_layer_plan._plans.get(m) is not None and _layer_plan._plans[m].ok for m in linears)
    assert_step(got, want, "calibrated model")
    scale = float(acts[0].scale)
    with torch.no_grad(), ff.calibration(model):  # again, on wider data: ranges grow
        model(x * 4)
    assert float(acts[0].scale) > scale
    assert not any(q.__dict__.get("_quantizer_overrides") for q in acts)


# --- caching, threads, fallbacks -------------------------------------------------------------


def test_packed_weights_are_cached_and_invalidated():
    need_c()
    rng = random.Random(6)
    torch.manual_seed(6)
    _integer.clear_cache()
    x = act((4, 32), rng)
    raw = torch.randint(-127, 128, (8, 32), dtype=torch.int8)
    scale = torch.full((8,), 0.01)
    ctx = ff.quantization.affine.quantization_context(scale, None, ff.PerChannel(0))
    w = QuantizedTensor(raw, ctx)
    with torch.no_grad():
        y1 = F.linear(x, w, None)
        info = _integer.cache_info()
        for _ in range(3):
            assert torch.equal(F.linear(x, w, None), y1)
        after = _integer.cache_info()
        assert after["packs"] == info["packs"] and after["hits"] >= info["hits"] + 3, (info, after)
        # A new QuantizedTensor over the same memory still hits (keyed on the owner).
        w2 = QuantizedTensor(raw, ctx)
        F.linear(x, w2, None)
        assert _integer.cache_info()["packs"] == info["packs"]
        # In-place change of the weight: repacked, new result equals the simulation.
        raw[0].neg_()
        y2 = F.linear(x, w, None)
        assert _integer.cache_info()["packs"] == info["packs"] + 1
        assert not torch.equal(y2, y1)
        with _integer.integer_execution(False):
            assert torch.allclose(y2, F.linear(x, w, None), rtol=1e-5, atol=1e-6)
        # Changed scales: repacked.
        scale.mul_(2)
        y3 = F.linear(x, w, None)
        assert _integer.cache_info()["packs"] == info["packs"] + 2
        assert torch.allclose(y3, 2 * y2, rtol=1e-6, atol=1e-6)
    entries = _integer.cache_info()["entries"]
    del w, w2, raw, ctx
    gc.collect()
    assert _integer.cache_info()["entries"] == entries - 1, "entry outlived its weight"


def test_frozen_weights_are_packed_once():
    need_c()
    torch.manual_seed(7)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(32, 16)))
    layer = model[0]
    layer.input_quantizer = LinearQuantizer(8, symmetric=False)
    layer.input_quantizer.quantization_range = (-3.0, 2.0)
    layer.weight_quantizer = LinearQuantizer(8, granularity=ff.PerChannel(0))
    layer.weight_quantizer.quantization_range = (layer.weight.detach().amin(1), layer.weight.detach().amax(1))
    x = torch.randn(5, 32)
    with torch.no_grad():
        before = simulated(lambda: layer(x))
        ff.freeze(model)
        info = _integer.cache_info()
        y1 = layer(x)
        assert _integer.last_path() == "linear:integer", _integer.last_path()
        y2 = layer(x)
        after = _integer.cache_info()
        assert after["packs"] == info["packs"] + 1 and after["hits"] >= info["hits"] + 1, (info, after)
        assert torch.equal(y1, y2)
        assert torch.equal(simulated(lambda: layer(x)), before), "freezing changed the simulated result"
        # Changing the integers in place (or loading a state dict) makes a new raw copy.
        layer.weight_quantizer.int_weight[0].neg_()
        y3 = layer(x)
        assert _integer.cache_info()["packs"] == after["packs"] + 1
        assert not torch.equal(y3, y1)
        assert torch.allclose(simulated(lambda: layer(x)), y3, rtol=1e-5, atol=1e-5)


def test_tracing_records_torch_ops_not_the_kernels():
    """torch.jit.trace of a model on the integer path: inside the trace the simulated path
    runs, so the traced graph computes from its input (a libffqrt call would be recorded as
    a constant buffer and give the same output for every input)."""
    need_c()
    torch.manual_seed(11)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(16, 8)))
    layer = model[0]
    layer.input_quantizer = LinearQuantizer(8, symmetric=False)
    layer.input_quantizer.quantization_range = (-3.0, 3.0)
    layer.weight_quantizer = LinearQuantizer(8, granularity=ff.PerChannel(0))
    layer.weight_quantizer.quantization_range = (layer.weight.detach().amin(1), layer.weight.detach().amax(1))
    x1, x2 = torch.randn(4, 16), torch.randn(4, 16)
    with torch.no_grad():
        layer(x1)
        assert _integer.last_path() == "linear:integer", _integer.last_path()
        traced = torch.jit.trace(model, (x1,), check_trace=False)
        for x in (x1, x2):
            want = simulated(lambda: model(x))
            got = traced(x)
            got = got.dequantize() if isinstance(got, QuantizedTensor) else got
            want = want.dequantize() if isinstance(want, QuantizedTensor) else want
            assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), (x is x1, (got - want).abs().max())


def test_quantizer_output_converts_to_int8_without_a_second_check():
    need_c()
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-1.0, 3.0)
    x = torch.randn(33, 17) * 2
    with torch.no_grad():
        qt = q(x)
        raw = qt.raw_data
        assert _ffqrt.known_int8_grid(raw)
        assert torch.equal(_integer._int8_raw(qt), raw.to(torch.int8))
        calls = []
        original = _integer._c_int8
        _integer._c_int8 = lambda t: calls.append(t) or original(t)
        try:
            _integer._int8_raw(qt)
            assert calls == [], "checked again"
            raw[0, 0] = 0.5  # changed in place: no longer trusted, and no longer integral
            assert not _ffqrt.known_int8_grid(qt.raw_data)
            assert _integer._int8_raw(qt) is None and len(calls) == 1
        finally:
            _integer._c_int8 = original
        q4 = LinearQuantizer(4, symmetric=False)
        q4.quantization_range = (-1.0, 3.0)
        assert not _ffqrt.known_int8_grid(q4(x).raw_data)
        assert not _ffqrt.known_int8_grid(x.clone())


def test_kept_int8_codes_follow_changes():
    """An 8-bit quantization on the integer path keeps the int8 codes it wrote: the kernels
    read them instead of converting the float raw data again, but never stale ones."""
    need_c()
    rng = random.Random(11)
    x = torch.randn(8, 40) * 2
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-1.0, 3.0)
    with torch.no_grad():
        qt = q(x)
        raw = qt.raw_data
        with _integer.integer_execution(False):
            want = q(x).raw_data
        assert torch.equal(raw, want), "the int8 route wrote other codes than the float one"
        assert torch.equal(raw, raw.round()) and str(raw.dtype) == "torch.float32"
        kept = _ffqrt.kept_int8(raw)
        assert kept is not None and kept.dtype == torch.int8 and torch.equal(kept, raw.to(torch.int8))
        calls = []
        original = _ffqrt.quantize_int8
        _ffqrt.quantize_int8 = lambda *a: calls.append(a) or original(*a)
        try:
            assert torch.equal(_integer._int8_raw(qt), raw.to(torch.int8)) and calls == []
            raw[0, :5] = torch.tensor([-128.0, 127.0, 0.0, 5.0, -7.0])  # changed in place, still integers
            assert _ffqrt.kept_int8(raw) is None
            assert torch.equal(_integer._int8_raw(qt), raw.to(torch.int8)), "stale int8 codes used"
        finally:
            _ffqrt.quantize_int8 = original
        # The layer result follows the changed raw data too.
        w = weight((6, 40), rng)
        oq = out_quantizer(simulated(lambda: F.linear(qt, w)), rng)
        got = F.linear(qt, w, output_quantizer=oq)
        assert _integer.last_path().endswith(":integer")
        assert_step(got, simulated(lambda: F.linear(qt, w, output_quantizer=oq)), "linear after an in-place change")
        # Other ranges (other zero points) after each other: each quantization its own codes.
        for lo, hi in ((-1.0, 3.0), (-3.0, 1.0), (-0.5, 6.0), (-1.0, 3.0)):
            q.quantization_range = (lo, hi)
            got = q(x).raw_data
            with _integer.integer_execution(False):
                want = q(x).raw_data
            assert torch.equal(got, want), "range (%g, %g)" % (lo, hi)
            assert torch.equal(_ffqrt.kept_int8(got), want.to(torch.int8))
        # The simulated path's quantization keeps no int8 copy (it keeps the dequantized values).
        with _integer.integer_execution(False):
            assert _ffqrt.kept_int8(q(x).raw_data) is None


def test_results_follow_quantizer_and_weight_changes():
    """Nothing computed for one call is reused once an output quantizer's range, a weight, or
    the integer switch changes."""
    need_c()
    rng = random.Random(12)
    x = act((5, 3, 6, 6), rng)
    conv_w = weight((4, 3, 3, 3), rng)
    q = out_quantizer(torch.randn(5, 4, 6, 6) * 3, rng)
    relu_q = LinearQuantizer(8, symmetric=False)
    relu_q.quantization_range = (0.0, 2.0)
    with torch.no_grad():
        for step in range(4):
            if step == 1:
                q.quantization_range = (-0.5, 0.75)  # a narrower output grid
            if step == 2:
                conv_w = weight((4, 3, 3, 3), rng)  # a new weight of the same shape
            if step == 3:
                relu_q.quantization_range = (0.0, 0.5)
            call = lambda: F.conv2d(x, conv_w, None, 1, 1, output_quantizer=q)  # noqa: E731
            y = call()
            assert _integer.last_path().endswith(":integer")
            assert_step(y, simulated(call), "conv step %d" % step)
            r = F.relu(y, output_quantizer=relu_q)
            assert _integer.last_path().endswith(":integer")
            assert torch.equal(r.dequantize(), simulated(lambda: F.relu(y, output_quantizer=relu_q)).dequantize())
            flat = torch.flatten(r, 1)
            assert torch.equal(flat.dequantize(), torch.flatten(r.dequantize(), 1))
        with _integer.integer_execution(False):
            _integer._local.last = None
            y = F.conv2d(x, conv_w, None, 1, 1, output_quantizer=q)
            assert _integer.last_path() is None and y.raw_data.dtype == torch.float32


class PlanModel:
    """Quantized conv (1 input channel) -> relu -> strided conv, flatten, then linear -> relu
    -> linear; weights per channel, activations calibrated. ``layers[i]`` as in a Sequential
    of all seven."""

    def __init__(self, rng):
        torch.manual_seed(rng.randint(0, 1 << 30))
        self.head = ff.quantize_model(torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)))
        self.tail = ff.quantize_model(torch.nn.Sequential(
            torch.nn.Linear(16 * 4 * 4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)))
        self.layers = [self.head[0], self.head[1], self.head[2], None, self.tail[0], self.tail[1], self.tail[2]]
        from fastforward.range_setting import running_minmax

        for part in (self.head, self.tail):
            ff.find_quantizers(part, "**/[quantizer:parameter/weight]").initialize(
                LinearQuantizer, num_bits=8, symmetric=True, allow_one_sided=False, granularity=ff.PerChannel(0))
            ff.find_quantizers(part, "**/[quantizer:activation]").initialize(
                LinearQuantizer, num_bits=8, symmetric=False)
        with ff.estimate_ranges(self.head, running_minmax), ff.estimate_ranges(self.tail, running_minmax):
            for _ in range(3):
                self(torch.rand(20, 1, 8, 8))

    def __getitem__(self, i):
        return self.layers[i]

    def __call__(self, x):
        return self.tail(torch.flatten(self.head(x), 1))


def without_plans(fn):
    """fn() with the layers' call plans off: their ordinary forward."""
    from fastforward import _layer_plan

    _layer_plan._enabled[0] = False
    try:
        return fn()
    finally:
        _layer_plan._enabled[0] = True


def planned_and_ordinary(model, x):
    """model(x) with the layers' call plans, then with their ordinary forward."""
    with torch.no_grad():
        return model(x), without_plans(lambda: model(x))


def assert_same_result(got, want, what):
    assert type(got) is type(want), "%s: %s vs %s" % (what, type(got).__name__, type(want).__name__)
    if isinstance(got, QuantizedTensor):
        assert got.raw_data.dtype == want.raw_data.dtype, what
        gp, wp = got.quantization_context.quantization_params, want.quantization_context.quantization_params
        assert gp.scale is wp.scale and gp.offset is wp.offset, what
    assert_exact(got, want, what)


def test_layer_plans_equal_the_ordinary_forward():
    """QuantizedConv2d / QuantizedLinear run a cached call plan on the integer path; its
    results are bit-identical to the layers' ordinary forward, for float and quantized inputs
    of any batch size, and the plan is made once."""
    need_c()
    from fastforward import _layer_plan

    rng = random.Random(31)
    model = PlanModel(rng)
    for batch in (1, 7, 33):
        x = torch.rand(batch, 1, 8, 8)
        got, want = planned_and_ordinary(model, x)
        assert_same_result(got, want, "batch %d" % batch)
    for i in (0, 2, 4, 6):
        plan = _layer_plan._plans.get(model[i])
        assert plan is not None and plan.ok, "layer %d has a plan" % i
    first = _layer_plan._plans[model[4]]
    planned_and_ordinary(model, torch.rand(3, 1, 8, 8))
    assert _layer_plan._plans[model[4]] is first, "an unchanged layer keeps its plan"
    # a quantized input (a stub input quantizer), and a channels_last float input
    model[4].input_quantizer = QuantizerStub()
    with torch.no_grad():
        flat = torch.flatten(model.head(torch.rand(5, 1, 8, 8)), 1)
    assert isinstance(flat, QuantizedTensor)
    got, want = planned_and_ordinary(model.tail, flat)
    assert_same_result(got, want, "quantized input")
    assert _layer_plan._plans[model[4]].ok
    x = torch.rand(4, 1, 8, 8).contiguous(memory_format=torch.channels_last)
    got, want = planned_and_ordinary(model, x)
    assert_same_result(got, want, "channels_last input")


def quantized_layer_norm(d, rng, affine=True, input_range=(-3.0, 3.0)):
    """A QuantizedLayerNorm over d with 8-bit input (None: stub), weight, bias and output
    quantizers, its weight and bias random."""
    ln = ff.quantize_model(torch.nn.Sequential(torch.nn.LayerNorm(d, elementwise_affine=affine)))[0]
    if affine:
        with torch.no_grad():
            ln.weight.copy_(torch.randn(d) * 0.5 + 1.0)
            ln.bias.copy_(torch.randn(d) * 0.2)
        for slot, t in (("weight_quantizer", ln.weight), ("bias_quantizer", ln.bias)):
            q = LinearQuantizer(8, symmetric=True)
            q.quantization_range = (-float(t.abs().max()), float(t.abs().max()))
            setattr(ln, slot, q)
    if input_range is not None:
        ln.input_quantizer = LinearQuantizer(8, symmetric=False)
        ln.input_quantizer.quantization_range = input_range
    ln.output_quantizer = LinearQuantizer(8, symmetric=False)
    ln.output_quantizer.quantization_range = (-2.5 * rng.uniform(0.8, 1.2), 2.5 * rng.uniform(0.8, 1.2))
    return ln


def test_layer_norm_plan_equals_the_ordinary_forward():
    """QuantizedLayerNorm on the integer path runs a cached call plan (the weight and bias
    quantized and dequantized once): bit-identical to its ordinary forward for float and
    quantized inputs, with and without an affine part; remade when the weight, a quantizer's
    range, eps or the shape changes; not made for a float output or a float weight."""
    need_c()
    from fastforward import _layer_plan

    rng = random.Random(37)
    for affine in (True, False):
        ln = quantized_layer_norm(48, rng, affine)
        for shape in ((5, 48), (2, 7, 48), (1, 48)):
            got, want = planned_and_ordinary(ln, torch.randn(shape) * 1.5)
            assert_same_result(got, want, "affine=%s %s" % (affine, shape))
            assert _integer.last_path() == "layer_norm:integer"
        plan = _layer_plan._plans.get(ln)
        assert plan is not None and plan.ok
        planned_and_ordinary(ln, torch.randn(3, 48))
        assert _layer_plan._plans[ln] is plan, "an unchanged layer keeps its plan"
        # a quantized input: requantized by table or read as it is
        q_in = LinearQuantizer(8, symmetric=False)
        q_in.quantization_range = (-2.0, 2.5)
        with torch.no_grad():
            xq = q_in(torch.randn(4, 48))
        got, want = planned_and_ordinary(ln, xq)
        assert_same_result(got, want, "quantized input")
        stub_in = quantized_layer_norm(48, rng, affine, input_range=None)
        got, want = planned_and_ordinary(stub_in, xq)
        assert_same_result(got, want, "quantized input, stub input quantizer")
    ln = quantized_layer_norm(32, rng)
    x = torch.randn(6, 32)
    planned_and_ordinary(ln, x)
    first = _layer_plan._plans[ln]
    changes = [
        ("weight written", lambda: ln.weight.mul_(1.5)),  # (under no_grad: through the parameter)
        ("bias written", lambda: ln.bias.add_(0.3)),
        ("weight range", lambda: setattr(ln.weight_quantizer, "quantization_range", (-3.0, 3.0))),
        ("output range", lambda: setattr(ln.output_quantizer, "quantization_range", (-1.0, 4.0))),
        ("eps", lambda: setattr(ln, "eps", 0.25)),
    ]
    for what, change in changes:
        with torch.no_grad():
            change()
        got, want = planned_and_ordinary(ln, x)
        assert_same_result(got, want, what)
        assert _layer_plan._plans[ln] is not first, what + ": the plan was not remade"
        first = _layer_plan._plans[ln]
    ln.output_quantizer = QuantizerStub()  # float output: the ordinary path
    _layer_plan._plans.pop(ln, None)
    with torch.no_grad(), ff.strict_quantization(False):
        ln(x)
    assert not _layer_plan._plans[ln].ok
    ln2 = quantized_layer_norm(32, rng)
    ln2.weight_quantizer = QuantizerStub()  # a float weight: strict quantization decides, ordinarily
    with torch.no_grad(), ff.strict_quantization(False):
        got, want = planned_and_ordinary(ln2, x)
    assert_same_result(got, want, "float weight")
    assert not _layer_plan._plans[ln2].ok
    ln3 = quantized_layer_norm(32, rng)
    ln3.bias_quantizer = QuantizerStub()  # a float bias (as ff.quantize leaves biases): planned
    with torch.no_grad(), ff.strict_quantization(True):
        got, want = planned_and_ordinary(ln3, x)
    assert_same_result(got, want, "float bias")
    assert _layer_plan._plans[ln3].ok


def quantized_layer(module, input_range=None, input_symmetric=False, output_range=None):
    """``module`` (a Linear or Conv2d) as quantize_model makes it: weights symmetric per
    output channel over their own range; an 8-bit input quantizer over ``input_range`` (None:
    the stub stays), an asymmetric 8-bit output quantizer over ``output_range`` (None: float
    output)."""
    layer = ff.quantize_model(torch.nn.Sequential(module))[0]
    layer.weight_quantizer = LinearQuantizer(8, symmetric=True, granularity=ff.PerChannel(0))
    w = layer.weight.detach().reshape(layer.weight.shape[0], -1).abs().amax(1)
    layer.weight_quantizer.quantization_range = (-w, w)
    if input_range is not None:
        layer.input_quantizer = LinearQuantizer(8, symmetric=input_symmetric)
        layer.input_quantizer.quantization_range = input_range
    if output_range is not None:
        layer.output_quantizer = LinearQuantizer(8, symmetric=False)
        layer.output_quantizer.quantization_range = output_range
    return layer


@contextlib.contextmanager
def counted(owner, name, calls):
    """``owner.name`` (a function, or a method of a class) appends to ``calls`` on every call
    within the block."""
    real = getattr(owner, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    setattr(owner, name, counting)
    try:
        yield
    finally:
        setattr(owner, name, real)


def test_layer_plans_quantize_float_inputs_in_the_kernel_call():
    """A planned QuantizedLinear with a static 8-bit input quantizer hands a float input to
    one C call that quantizes and multiplies (``linear_static``): bit-identical to the
    ordinary forward for inputs of any rank, float and requantized outputs, signed and
    unsigned input grids; inputs it does not take (non-contiguous) run the ordinary way."""
    need_c()
    from fastforward import _ffqrt

    torch.manual_seed(7)
    calls = []
    for symmetric, requant in ((False, False), (True, False), (False, True)):
        layer = quantized_layer(torch.nn.Linear(24, 40), (-2.0, 2.0) if symmetric else (-1.7, 2.3), symmetric,
                                (-1.1, 0.9) if requant else None)
        with counted(_ffqrt.StaticLinearCall, "rows", calls):
            for shape in ((24,), (5, 24), (2, 3, 24), (1, 1, 1, 24)):
                x = torch.randn(shape) * 1.5
                calls.clear()
                got, want = planned_and_ordinary(layer, x)
                assert calls, "%s: the plan quantized in the kernel call" % (shape,)
                assert_same_result(got, want, "shape %s symmetric %s requant %s" % (shape, symmetric, requant))
            calls.clear()
            x = torch.randn(24, 6).t()  # not contiguous
            got, want = planned_and_ordinary(layer, x)
            assert not calls, "a non-contiguous input takes the ordinary path"
            assert_same_result(got, want, "non-contiguous input")


def test_layer_plans_take_inputs_larger_than_the_kept_workspace():
    """An input whose codes do not fit the thread's kept workspace (64 MB; lowered here)
    goes through the checked call with a workspace of its own: the same result."""
    need_c()
    from fastforward import _ffqrt

    torch.manual_seed(8)
    layer = quantized_layer(torch.nn.Linear(24, 40), (-1.7, 2.3), False, (-1.1, 0.9))
    calls = []
    kept = _ffqrt._SCRATCH_MAX
    _ffqrt._SCRATCH_MAX = 24 * 10
    try:
        with counted(_ffqrt.StaticLinearCall, "__call__", calls):
            for shape in ((10, 24), (3, 11, 24)):  # at the limit, past it
                calls.clear()
                got, want = planned_and_ordinary(layer, torch.randn(shape))
                rows = torch.Size(shape[:-1]).numel()
                assert len(calls) == (rows > 10), "%s: checked call past the kept workspace" % (shape,)
                assert_same_result(got, want, "shape %s" % (shape,))
    finally:
        _ffqrt._SCRATCH_MAX = kept


def test_layer_plans_on_the_dynamic_path():
    """Under ``dynamic_activations``, a planned QuantizedLinear without an input quantizer
    quantizes a float input per call in C (``linear_dynamic``), exactly as the ordinary
    forward's dynamic kernel does; a static output quantizer then quantizes the result."""
    need_c()
    from fastforward import _ffqrt, _layer_plan

    torch.manual_seed(9)
    calls, planned, prepared = [], [], []
    for requant in (False, True):
        layer = quantized_layer(torch.nn.Linear(20, 33), output_range=(-1.2, 1.0) if requant else None)
        with counted(_ffqrt, "linear_dynamic", calls), counted(_layer_plan, "_linear_dynamic", planned), \
                counted(_ffqrt.DynamicLinearCall, "rows", prepared), _integer.dynamic_activations(True):
            for shape in ((20,), (6, 20), (2, 3, 20)):
                x = torch.randn(shape) * 2.0
                calls.clear()
                planned.clear()
                prepared.clear()
                got, want = planned_and_ordinary(layer, x)
                assert planned == [1], "%s: the plan ran the first call" % (shape,)
                # the plan's prepared call, then the ordinary forward's dynamic kernel
                assert len(prepared) == 1 and len(calls) == 1, "%s: %d / %d" % (shape, len(prepared), len(calls))
                assert_same_result(got, want, "dynamic, shape %s requant %s" % (shape, requant))
            kept = _ffqrt._SCRATCH_MAX
            _ffqrt._SCRATCH_MAX = 40  # past the thread's kept workspace: one made for the call
            try:
                got, want = planned_and_ordinary(layer, torch.randn(6, 20))
                assert_same_result(got, want, "dynamic past the kept workspace, requant %s" % requant)
            finally:
                _ffqrt._SCRATCH_MAX = kept


def test_conv_plans_quantize_float_inputs_in_the_kernel_call():
    """The same for QuantizedConv2d (``conv2d_static``): contiguous and channels_last float
    inputs, float and requantized outputs, strided and grouped convolutions."""
    need_c()
    from fastforward import _ffqrt

    torch.manual_seed(8)
    calls = []
    for conv, requant in ((torch.nn.Conv2d(6, 10, 3, padding=1), False),
                          (torch.nn.Conv2d(6, 12, 3, stride=2, padding=1, groups=2), True),
                          (torch.nn.Conv2d(6, 8, 1), False)):
        layer = quantized_layer(conv, (-1.9, 2.1), output_range=(-1.5, 1.2) if requant else None)
        with counted(_ffqrt.StaticConvCall, "__call__", calls):
            for batch, fmt in ((1, torch.contiguous_format), (3, torch.channels_last), (2, torch.contiguous_format)):
                x = (torch.randn(batch, 6, 9, 7) * 1.3).contiguous(memory_format=fmt)
                calls.clear()
                got, want = planned_and_ordinary(layer, x)
                assert calls, "batch %d %s: the plan quantized in the kernel call" % (batch, fmt)
                assert_same_result(got, want, "conv %s batch %d %s" % (conv, batch, fmt))


def test_layer_plans_follow_every_change():
    """A plan is rebuilt, or not used, whenever what it was made from changes: weights and
    biases in place or replaced, quantizer ranges, quantizers replaced, overrides (range
    estimation), a kernel registered before ours, autograd, the integer switch."""
    need_c()
    from fastforward.range_setting import running_minmax

    rng = random.Random(32)
    model = PlanModel(rng)
    x = torch.rand(6, 1, 8, 8)
    before, _ = planned_and_ordinary(model, x)
    changes = [
        ("linear weight in place", lambda: model[4].weight.mul_(0.5)),
        ("conv weight in place", lambda: model[0].weight.add_(0.05)),
        ("bias in place", lambda: model[6].bias.add_(0.02)),
        ("weight replaced", lambda: setattr(model[6], "weight", torch.nn.Parameter(torch.randn_like(model[6].weight) * 0.1))),
        ("weight data replaced", lambda: setattr(model[2].weight, "data", model[2].weight.data * -1.0)),
        ("output range", lambda: setattr(model[4].output_quantizer, "quantization_range", (-3.0, 2.0))),
        ("input range", lambda: setattr(model[2].input_quantizer, "quantization_range", (0.0, 0.7))),
        ("weight range", lambda: model[6].weight_quantizer.scale.mul_(2.0)),
        ("output quantizer replaced", lambda: setattr(model[6], "output_quantizer", QuantizerStub())),
        ("input quantizer replaced", lambda: setattr(model[0], "input_quantizer", QuantizerStub())),
        # last: a 4-bit grid would hide the changes above it
        ("output bit width", lambda: setattr(model[4].output_quantizer, "num_bits", 4)),
    ]
    for what, change in changes:
        with torch.no_grad():
            change()
        got, want = planned_and_ordinary(model, x)
        assert_same_result(got, want, what)
        assert not torch.equal(as_real(got), as_real(before)), "%s changes the result" % what
        before = got
    # range estimation adds quantizer overrides: no plan may skip them
    model = PlanModel(rng)
    quantizers = (model[0].input_quantizer, model[4].output_quantizer)
    old = [float(q.quantization_range[1].detach()) for q in quantizers]
    with torch.no_grad(), ff.estimate_ranges(model.head, running_minmax), \
            ff.estimate_ranges(model.tail, running_minmax):
        model(x * 4.0)
    for q, hi in zip(quantizers, old):
        assert float(q.quantization_range[1].detach()) > hi, "range estimation saw the call"
    got, want = planned_and_ordinary(model, x)
    assert_same_result(got, want, "after range estimation")
    # an override on one input quantizer alone (a plan would skip it)
    seen = []

    def override(quantizer, call, args, kwargs):
        seen.append(1)
        return call(*args, **kwargs)

    handle = model[4].input_quantizer.register_override(override)
    got, want = planned_and_ordinary(model, x)
    assert len(seen) == 2, "the override ran on both calls (%d)" % len(seen)
    assert_same_result(got, want, "with an override")
    handle.remove()
    # a kernel registered for linear before ours gets the call
    calls = []

    def mine(input, weight, bias=None, **kwargs):
        calls.append(1)
        return TF.linear(as_real(input), as_real(weight), bias)

    with dispatcher.register("linear", None, mine), torch.no_grad():
        model(x)
    assert len(calls) == 2, "the user's linear kernel ran for both linear layers (%d)" % len(calls)
    # autograd recording and the integer switch: the ordinary forward
    _integer._local.last = None
    y = model(x)
    assert y.requires_grad and _integer.last_path() != "linear:integer"
    with torch.no_grad(), _integer.integer_execution(False):
        _integer._local.last = None
        model(x)
        assert _integer.last_path() is None


def as_real(t):
    return t.dequantize() if isinstance(t, QuantizedTensor) else t


def test_threads_follow_torch():
    need_c()
    old = torch.get_num_threads()
    try:
        for n in (1, 3):
            torch.set_num_threads(n)
            assert _ffqrt.context_threads() == n
            rng = random.Random(n)
            check_linear(rng, (40,), 48, 96, pow2=True)
    finally:
        torch.set_num_threads(old)


def test_fallbacks_and_dispatch_rules():
    need_c()
    rng = random.Random(7)
    torch.manual_seed(7)
    x, w = act((3, 16), rng), weight((5, 16), rng)
    # Strict quantization without an output quantizer: the simulated path's error.
    try:
        with torch.no_grad():
            F.linear(x, w, None, strict_quantization=True)
    except QuantizationError:
        pass
    else:
        raise AssertionError("strict linear without an output quantizer did not raise")
    # Autograd recording with a learnable operand: simulated (differentiable) path.
    xg = QuantizedTensor(x.raw_data.clone().requires_grad_(True), x.quantization_context)
    _integer._local.last = None
    y = F.linear(xg, w, None, strict_quantization=False)
    assert _integer.last_path() is None and y.requires_grad
    # Asymmetric weights, 4-bit and per-channel activations: simulated.
    w_asym = quantize_per_tensor(torch.randn(5, 16), torch.tensor(0.02), torch.tensor(3.0))
    x4 = quantize_per_tensor(torch.randn(3, 16), torch.tensor(0.1), None, num_bits=4)
    xc = quantize_per_channel(torch.randn(3, 16), torch.full((3,), 0.05), None, axis=0)
    for a, b in ((x, w_asym), (x4, w), (xc, w)):
        _integer._local.last = None
        with torch.no_grad():
            F.linear(a, b, None, strict_quantization=False)
        assert _integer.last_path() is None
    # Raw data that are not int8 integers (fractions, NaN, out of range, -0): simulated.
    for bad in (0.5, float("nan"), 200.0, -0.0):
        raw = x.raw_data.clone()
        raw[1, 3] = bad
        xb = QuantizedTensor(raw, x.quantization_context)
        got, path, want = run_both(lambda: F.linear(xb, w, None, strict_quantization=False))
        assert path is None, (bad, path)
        assert torch.equal(got, want) or (bad != bad and bool(torch.isnan(got).any()))
    # A quantizer with an override sees the float result (calibration keeps working).
    seen = []
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-3.0, 3.0)
    handle = q.register_override(lambda quantizer, call, args, kwargs: seen.append(args[0].shape) or call(*args, **kwargs))
    got, path, want = run_both(lambda: F.linear(x, w, None, output_quantizer=q))
    handle.remove()
    assert path == "linear:integer" and len(seen) == 2 and isinstance(got, QuantizedTensor)
    assert_step(got, want, "linear with an overridden output quantizer")
    # A stub output quantizer: float result.
    got, path, want = run_both(lambda: F.linear(x, w, None, output_quantizer=QuantizerStub()))
    assert path == "linear:integer" and type(got) is torch.Tensor
    # torch calls on QuantizedTensors reach the same kernels.
    with ff.strict_quantization(False):
        got, path, want = run_both(lambda: TF.linear(x, w))
    assert path == "linear:integer" and torch.allclose(got, want, rtol=1e-5, atol=1e-6)
    # A user kernel registered later wins over ours.
    with dispatcher.register("linear", None, lambda *a, **k: "user"):
        assert F.linear(x, w, None) == "user"


def test_bridge_rejects_malformed_calls():
    need_c()
    good = torch.zeros(2, 4, dtype=torch.int8)
    packed = _ffqrt.linear_pack(torch.zeros(3, 4, dtype=torch.int8), torch.ones(3))
    qp = _ffqrt.QParam(0.1, 0)
    bad_calls = [
        lambda: _ffqrt.QParam(0.0, 0),
        lambda: _ffqrt.QParam(float("nan"), 0),
        lambda: _ffqrt.QParam(0.1, 128),
        lambda: _ffqrt.QParam(0.1, 1.5),
        lambda: _ffqrt.QParam(0.1, 0, torch.int32),
        lambda: _ffqrt.linear(good.float(), qp, packed, None),
        lambda: _ffqrt.linear(torch.zeros(2, 5, dtype=torch.int8), qp, packed, None),
        lambda: _ffqrt.linear(good.t(), qp, packed, None),
        lambda: _ffqrt.linear(good, qp, packed[:10], None),
        lambda: _ffqrt.linear(good, qp, torch.zeros(200, dtype=torch.uint8), None),
        lambda: _ffqrt.linear(good, qp, packed, torch.zeros(2)),
        lambda: _ffqrt.linear(good, _ffqrt.QParam(0.1, 0, torch.uint8), packed, None),
        lambda: _ffqrt.linear_pack(torch.zeros(3, 4, dtype=torch.int8), torch.zeros(3)),
        lambda: _ffqrt.linear_pack(torch.zeros(3, 4, dtype=torch.int8), torch.ones(2)),
        lambda: _ffqrt.linear_pack(torch.zeros(3, 70000, dtype=torch.int8), torch.ones(3)),
        lambda: _ffqrt.matmul(torch.zeros(1, 2, 3, dtype=torch.int8), qp, torch.zeros(1, 4, 2, dtype=torch.int8), qp),
        lambda: _ffqrt.add(good, qp, torch.zeros(2, 3, dtype=torch.int8), qp, qp),
        lambda: _ffqrt.conv2d_shape(1, 3, 4, 4, 2, 3, 3, (0, 1), (0, 0), (1, 1), 1),
        lambda: _ffqrt.conv2d_shape(1, 3, 4, 4, 2, 3, 3, (1, 1), (0, 0), (1, 1), 2),
        # the fused float-input calls
        lambda: _ffqrt.linear_static(good, qp, packed, None),  # int8, not float
        lambda: _ffqrt.linear_static(torch.zeros(2, 5), qp, packed, None),
        lambda: _ffqrt.linear_static(torch.zeros(4, 2).t(), qp, packed, None),
        lambda: _ffqrt.linear_static(torch.zeros(2, 4), qp, packed[:10], None),
        lambda: _ffqrt.linear_static(torch.zeros(2, 4), qp, packed, torch.zeros(2)),
        lambda: _ffqrt.StaticLinearCall(qp, packed, None)(torch.zeros(2, 5)),
        lambda: _ffqrt.StaticLinearCall(qp, packed, None)(torch.zeros(2, 4, dtype=torch.float64)),
        lambda: _ffqrt.StaticLinearCall(qp, packed, None)(torch.zeros(4, 2).t()),
        lambda: _ffqrt.StaticLinearCall(qp, packed[:10], None),
        lambda: _ffqrt.StaticLinearCall(qp, packed, torch.zeros(4)),
        lambda: _ffqrt.StaticConvCall(qp, packed, None, _ffqrt.conv2d_shape(1, 4, 3, 3, 3, 1, 1, (1, 1), (0, 0),
                                                                             (1, 1), 1)),
    ]
    shape = _ffqrt.conv2d_shape(1, 4, 3, 3, 3, 1, 1, (1, 1), (0, 0), (1, 1), 1)
    conv_call = _ffqrt.StaticConvCall(qp, _ffqrt.conv2d_pack(torch.zeros(3, 4, 1, 1, dtype=torch.int8),
                                                             torch.ones(3), shape), None, shape)
    assert conv_call(torch.zeros(1, 4, 3, 3)).shape == (1, 3, 3, 3)
    bad_calls += [
        lambda: conv_call(torch.zeros(1, 4, 3, 4)),
        lambda: conv_call(torch.zeros(1, 4, 3, 3, dtype=torch.float64)),
        lambda: conv_call(torch.zeros(1, 4, 3, 3).contiguous(memory_format=torch.channels_last)),
        lambda: conv_call(torch.zeros(1, 3, 3, 4).permute(0, 3, 1, 2)),
    ]
    # the prepared call of int8 codes (a layer plan's): only the input and its grid per call
    codes_call = _ffqrt.ConvCall(conv_call.packed, None, shape, qp)
    codes = torch.randint(-128, 128, (1, 4, 3, 3), dtype=torch.int8)
    assert torch.equal(codes_call(codes, qp), _ffqrt.conv2d(codes, qp, conv_call.packed, None, shape, out=qp))
    bad_calls += [
        lambda: _ffqrt.ConvCall(conv_call.packed[:10], None, shape),
        lambda: _ffqrt.ConvCall(conv_call.packed, torch.zeros(2), shape),
        lambda: codes_call(codes.float(), qp),
        lambda: codes_call(codes[:, :, :, :2], qp),
        lambda: codes_call(codes.view(torch.uint8), qp),  # not the grid's dtype
        lambda: codes_call(codes, 0.5),
        lambda: codes_call(codes.contiguous(memory_format=torch.channels_last), qp),
        lambda: codes_call(codes.permute(0, 1, 3, 2), qp),
    ]
    for i, call in enumerate(bad_calls):
        try:
            call()
        except ValueError:
            continue
        raise AssertionError("malformed bridge call %d was accepted" % i)
    # The per-tensor dequantization of codes leaves what C cannot take to the general path
    # (None): its scale and zero point are checked in C.
    zp = torch.tensor([3], dtype=torch.int32)
    assert torch.equal(_ffqrt.dequantize8_per_tensor(codes, torch.tensor([0.25]), zp),
                       _ffqrt.dequantize(codes, tuple(codes.shape), torch.tensor([0.25]), zp, 8))
    for scale, z, x in ((torch.tensor([0.0]), None, codes), (torch.tensor([float("nan")]), None, codes),
                        (torch.tensor([-1.0]), None, codes), (torch.tensor([0.25]), torch.tensor([300], dtype=torch.int32), codes),
                        (torch.tensor([0.25, 0.5]), None, codes), (torch.tensor([0.25]), None, codes.float()),
                        (torch.tensor([0.25]), None, codes.permute(0, 1, 3, 2))):
        assert _ffqrt.dequantize8_per_tensor(x, scale, z) is None, (scale, z)
    # Malformed functional calls raise the simulated path's (torch's) error, never crash.
    rng = random.Random(8)
    x, w = act((3, 16), rng), weight((5, 17), rng)
    for call in (lambda: F.linear(x, w, None, strict_quantization=False),
                 lambda: F.matmul(x, x, strict_quantization=False),
                 lambda: F.conv2d(act((1, 3, 4, 4), rng), weight((2, 4, 3, 3), rng), strict_quantization=False)):
        try:
            with torch.no_grad():
                call()
        except RuntimeError:
            continue
        raise AssertionError("a malformed call succeeded")


# --- randomized robustness ----------------------------------------------------------------------


def _odd_float(shape, rng):
    """A float tensor of ``shape`` behind an odd memory layout: offset into a larger storage,
    transposed, strided, channels_last, or plain."""
    x = torch.randn(shape) * rng.uniform(0.5, 3.0)
    kind = rng.choice(["offset", "transpose", "stride", "channels_last", "plain"])
    if kind == "offset":
        big = torch.zeros(x.numel() + rng.randint(1, 15))
        off = big.numel() - x.numel()
        big[off:] = x.reshape(-1)
        return big[off:].view(shape), kind
    if kind == "transpose" and x.dim() >= 2:
        return x.transpose(-1, -2).contiguous().transpose(-1, -2), kind
    if kind == "stride" and x.dim() >= 1:
        big = torch.zeros(tuple(shape[:-1]) + (shape[-1] * 2,))
        big[..., ::2] = x
        return big[..., ::2], kind
    if kind == "channels_last" and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last), kind
    return x, "plain"


def test_randomized_plan_inputs():
    """Layer plans with float inputs of odd shapes and layouts (zero-size, one element, huge K,
    offsets into a storage, transposed, strided, channels_last): the same values as the
    ordinary forward, bit for bit, whichever path each input takes."""
    need_c()
    rng = random.Random(12)
    torch.manual_seed(12)
    for i in range(60):
        conv = rng.random() < 0.4
        if conv:
            c = rng.choice([1, 3, 8])
            module = torch.nn.Conv2d(c, rng.choice([1, 5, 16]), rng.choice([1, 3]), stride=rng.choice([1, 2]),
                                     padding=rng.choice([0, 1]))
            shape = (rng.choice([0, 1, 2]), c, rng.choice([3, 6]), rng.choice([3, 7]))
        else:
            k = rng.choice([1, 3, 64, 4097 if i % 10 == 0 else 9])
            module = torch.nn.Linear(k, rng.choice([1, 2, 17]))
            shape = rng.choice([(k,), (0, k), (1, k), (3, 2, k), (1, 1, 1, k)])
        symmetric = rng.random() < 0.5
        layer = quantized_layer(module, (-2.5, 2.0), symmetric, (-3.0, 3.0) if rng.random() < 0.5 else None)
        x, kind = _odd_float(shape, rng)
        got, want = planned_and_ordinary(layer, x)
        assert_same_result(got, want, "case %d: %s %s %s" % (i, type(module).__name__, shape, kind))


def _odd_view(qt, rng):
    """The same values behind a different memory layout: transposed, offset or strided."""
    raw = qt.raw_data
    kind = rng.choice(["offset", "transpose", "stride", "plain"])
    if kind == "offset" and raw.numel():
        big = torch.zeros(raw.numel() + 3, dtype=raw.dtype)
        big[3:] = raw.reshape(-1)
        view = big[3:].view(raw.shape)
    elif kind == "transpose" and raw.dim() >= 2:
        view = raw.transpose(-1, -2).contiguous().transpose(-1, -2)
    elif kind == "stride" and raw.dim() >= 1:
        big = torch.zeros(raw.shape[:-1] + (raw.shape[-1] * 2,), dtype=raw.dtype)
        big[..., ::2] = raw
        view = big[..., ::2]
    else:
        view = raw
    return QuantizedTensor(view, qt.quantization_context), kind


def test_randomized_odd_shapes_and_views():
    need_c()
    rng = random.Random(9)
    torch.manual_seed(9)
    checked = integer = 0
    for i in range(120):
        op = rng.choice(["linear", "linear", "matmul", "conv2d", "add", "relu", "embedding", "dropout"])
        storage = rng.choice([None, torch.int8])
        requant = rng.random() < 0.5
        if op == "linear":
            k = rng.choice([0, 1, 1, 3, 64, 5000, 65536 if i % 20 == 0 else 9])
            m = rng.choice([(0,), (1,), (2, 3), (1, 1)])
            n = rng.choice([1, 2, 17])
            x, _ = _odd_view(act(m + (k,), rng, storage=storage), rng)
            w, _ = _odd_view(weight((n, k), rng) if k else weight((n, 1), rng), rng)

            def call(q, x=x, w=w):
                return F.linear(x, w, None, output_quantizer=q, strict_quantization=False)
        elif op == "matmul":
            sa = rng.choice([(1, 1), (0, 3), (2, 1, 4), (3, 5), (2, 2, 3, 4)])
            sb = rng.choice([(sa[-1], 2), (1, sa[-1], 3), (2, sa[-1], 1)])
            x, _ = _odd_view(act(sa, rng, storage=storage), rng)
            y, _ = _odd_view(act(sb, rng), rng)

            def call(q, x=x, y=y):
                return F.matmul(x, y, output_quantizer=q, strict_quantization=False)
        elif op == "conv2d":
            c = rng.choice([1, 2, 4])
            x, _ = _odd_view(act((rng.choice([0, 1, 2]), c, rng.choice([1, 3, 6]), rng.choice([1, 5])), rng), rng)
            kh = rng.choice([1, 2, 3])
            w, _ = _odd_view(weight((3, c, kh, 1), rng), rng)
            pad = rng.choice([0, 1])

            def call(q, x=x, w=w, pad=pad):
                return F.conv2d(x, w, None, 1, pad, output_quantizer=q, strict_quantization=False)
        elif op == "add":
            shape = rng.choice([(0,), (1,), (3, 1), (4, 5)])
            other = rng.choice([shape, (1,), shape[-1:]])
            x, _ = _odd_view(act(shape, rng, storage=storage), rng)
            y, _ = _odd_view(act(other, rng), rng)
            requant = True

            def call(q, x=x, y=y):
                return F.add(x, y, output_quantizer=q, strict_quantization=False)
        elif op == "embedding":
            rows, dim = rng.choice([(1, 1), (7, 3), (50, 9)])
            table, _ = _odd_view(weight((rows, dim), rng, per_channel=rng.random() < 0.7), rng)
            idx = torch.randint(-1 if rng.random() < 0.1 else 0, rows + (1 if rng.random() < 0.1 else 0),
                                rng.choice([(0,), (4,), (2, 3)]))
            if rng.random() < 0.3 and idx.dim() == 2:
                idx = idx.t()  # a non-contiguous index tensor
            if rng.random() < 0.3:
                idx = idx.to(torch.int32)

            def call(q, idx=idx, table=table):
                return F.embedding(idx, table, output_quantizer=q, strict_quantization=False)
        elif op == "dropout":
            x, _ = _odd_view(act(rng.choice([(0,), (1, 1), (5, 3)]), rng, storage=storage), rng)
            requant = True
            training = rng.random() < 0.2

            def call(q, x=x, training=training):
                return F.dropout(x, 0.0 if training else 0.4, training, output_quantizer=q,
                                 strict_quantization=False)
        else:
            x, _ = _odd_view(act(rng.choice([(0,), (1, 1), (5, 3)]), rng, storage=storage), rng)
            requant = True

            def call(q, x=x):
                return F.relu(x, output_quantizer=q, strict_quantization=False)
        with torch.no_grad():
            try:
                ref = simulated(lambda: call(None))
            except (RuntimeError, IndexError):
                # Malformed for torch too: the integer path must raise as well, not crash.
                try:
                    call(None)
                except (RuntimeError, IndexError):
                    continue
                raise AssertionError("integer path accepted what the simulation rejects")
            q = None
            if requant:
                q = LinearQuantizer(8, symmetric=False)
                lo, hi = (float(ref.min()), float(ref.max())) if ref.numel() else (-1.0, 1.0)
                q.quantization_range = (min(lo, -0.01), max(hi, 0.01))
        got, path, want = run_both(lambda: call(q))
        integer += bool(path and path.endswith(":integer"))
        if requant:
            assert_step(got, want, "%s #%d" % (op, i))
        else:
            assert got.shape == want.shape
            assert torch.allclose(got, want, rtol=1e-4, atol=1e-5), "%s #%d" % (op, i)
        checked += 1
    assert checked > 70 and integer > 50, (checked, integer)


def _same_result(got, want, what):
    """Equal results: the same type, shape, dtype and strides (dims of one element aside),
    integers within one step for QuantizedTensors, the same values (NaN where NaN) else."""
    assert type(got) is type(want), "%s: %s vs %s" % (what, type(got).__name__, type(want).__name__)
    assert got.shape == want.shape and got.dtype == want.dtype, "%s: %s %s vs %s %s" % (
        what, tuple(got.shape), got.dtype, tuple(want.shape), want.dtype)
    assert all(a == b for a, b, n in zip(got.stride(), want.stride(), got.shape) if n != 1), "%s: strides %s vs %s" % (
        what, got.stride(), want.stride())
    if isinstance(want, QuantizedTensor):
        diff = (got.raw_data.double() - want.raw_data.double()).abs()
        assert not diff.numel() or float(diff.max()) <= 1, "%s: integers %s apart" % (what, float(diff.max()))
        got, want = got.dequantize(), want.dequantize()
        assert got.dtype == want.dtype, what
    assert torch.allclose(got.double(), want.double(), rtol=1e-5, atol=1e-6, equal_nan=True), what


def _raises_as_simulated(call, what):
    """The simulated path raises; the integer path raises the same exception type."""
    try:
        simulated(call)
    except Exception as e:  # noqa: BLE001 - whichever torch raises
        want = type(e)
    else:
        raise AssertionError("%s: the simulation accepts it" % what)
    try:
        call()
    except Exception as e:  # noqa: BLE001
        assert type(e) is want, "%s: %s, the simulation %s" % (what, type(e).__name__, want.__name__)
    else:
        raise AssertionError("%s: the integer path accepts what the simulation rejects" % what)


def test_float64_raw_data_keep_the_simulated_dtype():
    # Raw data stored as float64 under a context that names no dequantized dtype
    # (quantization_context(..., output_dtype=torch.float64)) dequantize to float64 (torch's
    # promotion with the float32 scale): the simulated results are float64, and an op with a
    # float32 operand raises torch's dtype error. The integer kernels compute float32: such
    # operands are not theirs.
    from fastforward.quantization.affine.static import quantization_context

    need_c()
    rng = random.Random(3)

    def as_float64(qt):
        p = qt.quantization_context.quantization_params
        context = quantization_context(p.scale, p.offset, p.granularity, 8, torch.float64)
        return QuantizedTensor(qt.raw_data.double(), context)

    x = as_float64(act((4, 6), rng))
    assert x.dequantize().dtype == torch.float64
    x32 = act((4, 6), rng)
    w64 = as_float64(weight((5, 6), rng))
    with torch.no_grad():
        for what, call in [
            ("relu", lambda q: F.relu(x, output_quantizer=q, strict_quantization=False)),
            ("sin", lambda q: F.sin(x, output_quantizer=q, strict_quantization=False)),
            ("dropout", lambda q: F.dropout(x, 0.5, False, output_quantizer=q, strict_quantization=False)),
            ("add", lambda q: F.add(x, x32, output_quantizer=q, strict_quantization=False)),
        ]:
            for q in (None, out_quantizer(simulated(lambda: call(None)), rng)):
                got, _, want = run_both(lambda: call(q))
                _same_result(got, want, what)
        for what, call in [("mm", lambda: F.mm(x, x32.t(), strict_quantization=False)),
                           ("linear", lambda: F.linear(x32, w64, None, strict_quantization=False)),
                           ("matmul", lambda: F.matmul(x32, w64.t(), strict_quantization=False))]:
            _raises_as_simulated(call, what)


def test_elementwise_results_keep_the_input_layout():
    # torch's elementwise ops lay their result out as the input is laid out (a transposed,
    # permuted or channels_last input gives a result of the same strides; a sliced one a
    # dense result in the same order of dims), and so does the simulation of the table ops
    # and of requantization; the integer path used to return them contiguous.
    need_c()
    rng = random.Random(5)
    base = act((3, 4, 5, 6), rng, storage=torch.int8)
    raw = base.raw_data
    views = {
        "transposed": raw[0].transpose(-1, -2),
        "permuted": raw.permute(2, 0, 3, 1),
        "channels_last": raw.contiguous(memory_format=torch.channels_last),
        "sliced and transposed": raw[:, :, ::2].transpose(0, 3),
        "broadcast": raw[:, :1].expand(3, 4, 5, 6),
    }
    for name, view in views.items():
        x = QuantizedTensor(view, base.quantization_context)
        for op in ("relu", "tanh", "dropout"):
            fn = getattr(F, op)
            extra = (0.3, False) if op == "dropout" else ()
            ref = simulated(lambda: fn(x, *extra, strict_quantization=False))
            for q in (None, out_quantizer(ref, rng)):
                got, path, want = run_both(lambda: fn(x, *extra, output_quantizer=q, strict_quantization=False))
                assert path == op + ":integer", (name, op, path)
                _same_result(got, want, "%s of a %s input" % (op, name))
        q = out_quantizer(x.dequantize(), rng)  # requantization onto another grid
        got, _, want = run_both(lambda: q(x))
        _same_result(got, want, "requantization of a %s input" % name)
        # onto the input's own grid: the identity table, whose result shares the input's
        # data where they are laid out as the simulation lays its result out
        params = x.quantization_context.quantization_params
        same = LinearQuantizer(8, symmetric=False)
        same.quantization_range = (-1.0, 1.0)
        with torch.no_grad():
            same.scale.copy_(params.scale.reshape(1))
            same.offset.copy_(params.offset.reshape(1))
        for what, call in [("requantization", lambda: same(x)),
                           ("dropout", lambda: F.dropout(x, 0.5, False, output_quantizer=same,
                                                         strict_quantization=False))]:
            got, _, want = run_both(call)
            _same_result(got, want, "%s of a %s input onto its own grid" % (what, name))


def test_operand_scales_beyond_float_range_are_simulated():
    # Dequantized values that overflow float32 (a scale of 1e38 times a code of 100), or
    # products that overflow or underflow it, give infinities, NaN (an infinite weight
    # times a padding zero) or zeros in the simulation, which integer sums and one
    # combined multiplier would not reproduce: such operands take the simulated path.
    need_c()
    rng = random.Random(8)
    x = act((2, 3, 4), rng)
    cases = []
    for scale in (1e38, 2.0 ** 60, 2.0 ** -60, 1e-30):
        w = quantize_per_tensor(torch.randn(4, 3, 1) * 100 * scale, torch.tensor(scale), None)
        wl = quantize_per_channel(torch.randn(4, 4) * 100 * scale, torch.full((4,), scale), None, axis=0)
        big = quantize_per_tensor(torch.randn(2, 4) * 50 * scale, torch.tensor(scale), torch.tensor(3.0))
        cases += [
            ("conv1d over padding, weight scale %g" % scale,
             lambda q, w=w: F.conv1d(x, w, None, 3, 1, 1, 1, output_quantizer=q, strict_quantization=False)),
            ("linear, scale %g" % scale,
             lambda q, wl=wl, big=big: F.linear(big, wl, None, output_quantizer=q, strict_quantization=False)),
            ("matmul, scale %g" % scale,
             lambda q, big=big: F.matmul(big, big.t(), output_quantizer=q, strict_quantization=False)),
            ("mul, scale %g" % scale,
             lambda q, big=big: F.mul(big, big, output_quantizer=q, strict_quantization=False)),
        ]
    for what, call in cases:
        ref = simulated(lambda: call(None))
        for q in (None, out_quantizer(torch.nan_to_num(ref, 0.0, 1.0, -1.0), rng)):
            if q is None and what.startswith("mul"):
                continue  # (mul has a kernel with an output quantizer only)
            got, _, want = run_both(lambda: call(q))
            _same_result(got, want, what)


def test_malformed_arguments_raise_the_simulated_error():
    # Arguments torch rejects are the simulated path's to reject, with torch's error:
    # the integer planners used to divide by a zero pooling stride (ZeroDivisionError out
    # of the planner) and to look rows up past a padding index outside the table.
    need_c()
    rng = random.Random(4)
    x = act((1, 2, 6, 6), rng)
    table = weight((5, 3), rng)
    idx = torch.tensor([0, 4, 2])
    with torch.no_grad():
        _raises_as_simulated(lambda: F.max_pool2d(x, 2, 0, 0, 2, True, strict_quantization=False), "max_pool2d stride 0")
        _raises_as_simulated(lambda: F.max_pool2d(x, 2, (1, 0), strict_quantization=False), "max_pool2d stride (1, 0)")
        xc, wc = act((3, 9, 9, 0), rng), weight((6, 3, 2, 2), rng)
        _raises_as_simulated(lambda: F.conv2d(xc, wc, None, (1, 2), (0, 1), 1, 3, strict_quantization=False),
                             "conv2d of an empty image")
        for pad in (5, -6, 100):
            _raises_as_simulated(lambda: F.embedding(idx, table, pad, strict_quantization=False),
                                 "embedding padding_idx %d" % pad)
        got, path, want = run_both(lambda: F.embedding(idx, table, -5, strict_quantization=False))
        assert path == "embedding:integer", path
        _same_result(got, want, "embedding padding_idx -5")


def test_output_quantizers_that_learn_keep_their_gradients():
    # Frozen weights and inputs, an output quantizer whose scale and offset train (range
    # learning): under autograd the simulation records the quantizer's step on the op's
    # result; the kernels, run outside autograd, returned a result without a gradient and
    # the scale's gradient was lost. Such calls take the simulated path.
    need_c()
    rng = random.Random(6)
    x, w = act((3, 8), rng), weight((5, 8), rng)
    xc, wc = act((1, 2, 5, 5), rng), weight((3, 2, 3, 3), rng)
    a, b = act((2, 3, 4), rng), act((2, 4, 5), rng)
    calls = {
        "linear": lambda q: F.linear(x, w, None, output_quantizer=q, strict_quantization=False),
        "conv2d": lambda q: F.conv2d(xc, wc, None, 1, 1, output_quantizer=q, strict_quantization=False),
        "matmul": lambda q: F.matmul(a, b, output_quantizer=q, strict_quantization=False),
        "max_pool2d": lambda q: F.max_pool2d(xc, 2, output_quantizer=q, strict_quantization=False),
    }
    for name, call in calls.items():
        with torch.no_grad():
            ref = simulated(lambda: call(None))
        grads = []
        for integer in (True, False):
            q = out_quantizer(ref, random.Random(1))
            with _integer.integer_execution(integer):
                y = call(q)
            assert y.requires_grad, (name, integer)
            y.dequantize().sum().backward()
            grads.append((q.scale.grad, q.offset.grad))
        assert grads[0][0] is not None and torch.equal(grads[0][0], grads[1][0]), (name, grads)
        assert torch.equal(grads[0][1], grads[1][1]), (name, grads)


def test_conv_float_outputs_keep_the_channels_last_format():
    # torch's conv gives a channels_last result for a channels_last input, float or not;
    # the integer conv (functional and QuantizedConv2d's plans) wrote float outputs NCHW
    # (requantized ones only followed the input), so strides differed from the simulation.
    need_c()
    rng = random.Random(12)
    torch.manual_seed(12)
    base = act((2, 4, 6, 6), rng)
    x = QuantizedTensor(base.raw_data.contiguous(memory_format=torch.channels_last), base.quantization_context)
    w = weight((5, 4, 3, 3), rng)
    q4 = LinearQuantizer(4, symmetric=False)
    q4.quantization_range = (-1.0, 1.0)
    for q in (None, QuantizerStub(), q4):
        got, path, want = run_both(lambda: F.conv2d(x, w, None, 1, 1, output_quantizer=q, strict_quantization=False))
        assert path == "conv2d:integer", path
        _same_result(got, want, "conv2d of a channels_last input, output quantizer %s" % type(q).__name__)
    for output_range in (None, (-1.5, 1.2)):
        layer = quantized_layer(torch.nn.Conv2d(4, 6, 3, padding=1), (-2.0, 2.0), output_range=output_range)
        for inp in (torch.randn(2, 4, 6, 6).contiguous(memory_format=torch.channels_last), x):
            with torch.no_grad():
                want = simulated(lambda: layer(inp))
                for _ in range(2):  # (the first call makes the plan, the second runs it)
                    got = layer(inp)
            assert _integer.last_path() == "conv2d:integer"
            _same_result(got, want, "QuantizedConv2d of a channels_last %s input, output %s" % (
                type(inp).__name__, output_range))


def test_corrupted_pack_headers_are_rejected():
    # A pack's header holds its sizes and the offsets of its parts; libffqrt used to check
    # only the magic, version, n and k, so a header written over (one byte of an offset:
    # a conv pack's group size, a linear pack's scale offset) sent the kernels outside the
    # buffer (a segmentation fault). Every header byte changed, a call raises ValueError or
    # computes what the intact pack computes (a byte the header does not use).
    need_c()
    torch.manual_seed(13)
    w = torch.randint(-127, 128, (20, 40), dtype=torch.int8)
    packed = _ffqrt.linear_pack(w, torch.rand(20) * 0.01 + 1e-3)
    a = torch.randint(-128, 128, (5, 40), dtype=torch.int8)
    qp, qy = _ffqrt.QParam(0.05, 3), _ffqrt.QParam(0.1, -2)
    shape = _ffqrt.conv2d_shape(2, 4, 6, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2)
    cpacked = _ffqrt.conv2d_pack(torch.randint(-127, 128, (6, 2, 3, 3), dtype=torch.int8), torch.rand(6) + 0.01, shape)
    x = torch.randint(-128, 128, (2, 4, 6, 6), dtype=torch.int8)
    calls = [
        ("linear", packed, lambda p: _ffqrt.linear(a, qp, p, None, out=qy)),
        ("StaticLinearCall", packed, lambda p: _ffqrt.StaticLinearCall(qp, p, None)(a.float())),
        ("linear_dynamic", packed, lambda p: _ffqrt.linear_dynamic(a.float(), p, None)),
        ("conv2d", cpacked, lambda p: _ffqrt.conv2d(x, qp, p, None, shape, out=qy)),
    ]
    rejected = 0
    for name, good, call in calls:
        want = call(good)
        # the header, and for the conv pack its first group's linear header too
        positions = list(range(64)) + (list(range(64, 128)) if name == "conv2d" else [])
        for i in positions:
            for v in (0, 255, int(good[i]) ^ 0x10):
                if v == int(good[i]):
                    continue
                bad = good.clone()
                bad[i] = v
                try:
                    got = call(bad)
                except ValueError:
                    rejected += 1
                    continue
                assert torch.equal(got, want), "%s: header byte %d = %d changed the result" % (name, i, v)
        # the same bytes at an address the header cannot be read at (UBSan: misaligned access)
        shifted = torch.empty(good.numel() + 1, dtype=torch.uint8)[1:]
        shifted.copy_(good)
        try:
            call(shifted)
        except ValueError:
            rejected += 1
        else:
            raise AssertionError("%s: a pack at an odd address was read" % name)
    assert rejected > 400, rejected


def test_half_precision_raw_data_run_on_both_torch_versions():
    # Raw data stored as float16 or bfloat16 (quantized_dtype=torch.float16) hold their
    # integers exactly; reading them as codes clamped them in their own dtype, which torch
    # 1.13 cannot do for Half on the CPU: every op and requantization of such a tensor
    # raised RuntimeError there, where the simulation runs.
    need_c()
    rng = random.Random(14)
    for storage in (torch.float16, torch.bfloat16):
        x = act((4, 6), rng, storage=storage)
        y = act((4, 6), rng, storage=storage)
        w = weight((3, 6), rng)
        calls = {
            "relu": lambda q: F.relu(x, output_quantizer=q, strict_quantization=False),
            "add": lambda q: F.add(x, y, output_quantizer=q, strict_quantization=False),
            "linear": lambda q: F.linear(x, w, None, output_quantizer=q, strict_quantization=False),
            "transpose": lambda q: q(x.t()) if q is not None else x.t().dequantize(),
        }
        for name, call in calls.items():
            ref = simulated(lambda: call(None))
            q = out_quantizer(ref, rng)
            got, path, want = run_both(lambda: call(q))
            assert path is not None and path.endswith(":integer"), (name, storage, path)
            _same_result(got, want, "%s of %s raw data" % (name, storage))


def test_activation_after_a_batch_norm_looks_its_codes_up_a_channel_at_a_time():
    """A built-in activation layer given a batch norm's float result (timm's BatchNormAct2d:
    F.batch_norm on a conv's quantized output, then SiLU / ReLU) takes its input codes from
    the codes the batch norm read, through a table a channel (ffqrt_lut8_channels) composed
    with the op's, instead of quantizing the floats: the simulation's result bit for bit. A
    result changed in place (or a channels_last one) is quantized from its floats again."""
    need_c()
    rng = random.Random(79)
    calls = []
    with counted(_ffqrt, "lut8_channels", calls):
        for trial in range(24):
            c = rng.choice([1, 3, 16])
            shape = (rng.randint(1, 2), c, rng.randint(1, 9), rng.randint(1, 9)) if trial % 4 else (2, c)
            x = act(shape, rng)
            mean, var, w, b = torch.randn(c), torch.rand(c) + 0.1, torch.randn(c), torch.randn(c)
            layer = ff.quantize_model(torch.nn.Sequential([torch.nn.SiLU(), torch.nn.ReLU()][trial % 2]))[0]
            ref = TF.batch_norm(x.dequantize(), mean, var, w, b, False, 0.1, 1e-5)
            layer.input_quantizer = out_quantizer(ref, rng, pow2=trial % 3 == 0)
            layer.output_quantizer = out_quantizer(TF.silu(ref), rng)
            modify = trial % 5 == 4

            def call():
                y = TF.batch_norm(x, mean, var, w, b, False, 0.1, 1e-5)
                if modify:
                    y.add_(0.25)
                return layer(y)

            for mode in (torch.no_grad, torch.inference_mode):
                before = len(calls)
                with mode():
                    got = call()
                with mode(), _integer.integer_execution(False):
                    want = call()
                assert len(calls) == before + (0 if modify else 1), (trial, mode, modify)
                assert_exact(got, want, "trial %d %s %s" % (trial, shape, mode.__name__))
        # the result saves, loads and copies as a plain tensor (its origin is not carried over)
        with torch.no_grad():
            y = TF.batch_norm(x, mean, var, w, b, False, 0.1, 1e-5)
        buffer = io.BytesIO()
        torch.save(y, buffer)
        buffer.seek(0)
        for other in (torch.load(buffer), copy.deepcopy(y)):
            assert torch.equal(other, y) and _integer.bn_codes_of(other) is None


def test_mul_add_by_one_value_a_channel_are_tables_equal_to_the_simulation():
    """add / mul of an NCHW tensor and one value a channel (squeeze-excite's x * gate, the
    gate [n, c, 1, 1]) onto a static grid: a table of every pair of codes picked a plane at a
    time in C, bit for bit the simulation's result (either operand order, a gate shared by
    the batch, 3-D and 4-D, zero points odd and even); a gate not of that form, or a
    channels_last tensor, takes the general kernel."""
    need_c()
    rng = random.Random(73)
    calls = []
    with counted(_ffqrt, "lut8_planes", calls):
        for trial in range(40):
            n, c = rng.randint(1, 3), rng.choice([2, 4, 17])  # (one element in all: the scalar table)
            big_shape = (n, c, rng.randint(1, 9), rng.randint(2, 9)) if trial % 3 else (n, c, rng.randint(2, 30))
            small_shape = (rng.choice([1, n]), c) + (1,) * (len(big_shape) - 2)
            x, g = act(big_shape, rng), act(small_shape, rng, pow2=trial % 2 == 0)
            op = F.mul if trial % 4 else F.add
            first = trial % 5 != 0
            ref = op(x.dequantize(), g.dequantize()) if first else op(g.dequantize(), x.dequantize())
            q = out_quantizer(ref, rng, pow2=trial % 2 == 0)
            before = len(calls)
            got, path, want = run_both(lambda: op(x, g, output_quantizer=q) if first else op(g, x, output_quantizer=q))
            assert path in ("mul:integer", "add:integer") and len(calls) == before + 1, (trial, path)
            assert got.raw_data.stride() == want.raw_data.stride() or got.is_contiguous() == want.is_contiguous()
            assert_exact(got, want, "trial %d %s x %s" % (trial, big_shape, small_shape))
        # channels_last, or a gate of one value a row: the general kernel, within one step
        x = QuantizedTensor(act((2, 4, 5, 5), rng).raw_data.contiguous(memory_format=torch.channels_last),
                            act((1,), rng).quantization_context)
        for other in (act((2, 4, 1, 1), rng), act((2, 4, 5, 1), rng)):
            before = len(calls)
            ref = F.mul(x.dequantize(), other.dequantize())
            q = out_quantizer(ref, rng)
            got, path, want = run_both(lambda: F.mul(x, other, output_quantizer=q))
            assert len(calls) == before and path == "mul:integer", path
            assert_step(got, want, "general mul")


def test_batch_norm_of_a_quantized_input_equals_the_simulation_bit_for_bit():
    """F.batch_norm in eval mode of a per-tensor 8-bit input (timm's BatchNormAct2d after a
    convolution with a quantized output) runs in one C pass over the codes, and its float
    result is the simulation's (dequantize, torch's batch norm) bit for bit, with its
    strides: 2-D to 5-D inputs, contiguous and channels_last, planes of one element and of
    many, weight and bias or none, eps large and small. A statistic changed in place is
    seen; training, strict quantization, a weight recording a gradient or a per-channel
    input leave it to the simulation."""
    need_c()
    rng = random.Random(71)
    seen = set()
    for trial in range(60):
        n, c = rng.randint(1, 3), rng.choice([1, 3, 8, 17, 40])
        shape = [(n, c), (n, c, rng.randint(1, 20)), (n, c, rng.randint(1, 9), rng.randint(1, 9)),
                 (n, c, 2, 3, 4)][trial % 4]
        x = act(shape, rng, zp=rng.choice([0, -128, None]))
        if len(shape) == 4 and trial % 3 == 0:
            codes = x.raw_data.contiguous(memory_format=torch.channels_last)
            x = QuantizedTensor(codes, x.quantization_context)
        mean, var = torch.randn(c) * 2, torch.rand(c) * 4 + 1e-4
        w = torch.randn(c) if trial % 5 else None
        b = torch.randn(c) if trial % 7 else None
        eps = rng.choice([1e-5, 1e-3, 0.25])

        def call():
            return TF.batch_norm(x, mean, var, w, b, False, 0.1, eps)

        got, path, want = run_both(call)
        assert path == "batch_norm:integer", (trial, shape, path)
        assert type(got) is torch.Tensor and got.stride() == want.stride(), (trial, got.stride(), want.stride())
        assert_exact(got, want, "batch_norm trial %d %s" % (trial, shape))
        seen.add(len(shape))
        with torch.no_grad():
            var.mul_(1.5)  # in place: the kernel sees it
        got, path, want = run_both(call)
        assert_exact(got, want, "batch_norm after an in-place change, trial %d" % trial)
    assert seen == {2, 3, 4, 5}
    # where no fused multiply-add gives torch's values, each channel's table of them
    real = _integer._bn_affine_candidates
    _integer._bn_affine_candidates = lambda tensors, eps: []
    try:
        for shape, last in (((2, 5, 3, 7), False), ((2, 5, 3, 7), True), ((3, 6), False)):
            x = act(shape, rng)
            if last:
                x = QuantizedTensor(x.raw_data.contiguous(memory_format=torch.channels_last), x.quantization_context)
            mean, var, w = torch.randn(shape[1]), torch.rand(shape[1]) + 0.1, torch.randn(shape[1])
            got, path, want = run_both(lambda: TF.batch_norm(x, mean, var, w, None, False, 0.1, 1e-5))
            assert path == "batch_norm:integer" and got.stride() == want.stride(), (shape, path)
            assert_exact(got, want, "batch_norm by tables %s" % (shape,))
    finally:
        _integer._bn_affine_candidates = real
    x = act((2, 4, 5, 5), rng)
    mean, var, w = torch.randn(4), torch.rand(4) + 0.1, torch.randn(4)
    xc = quantize_per_channel(torch.randn(2, 4, 5, 5), torch.rand(4) * 0.05 + 0.01, None, axis=1)
    for label, fn in (("training", lambda: TF.batch_norm(x, mean.clone(), var.clone(), w, None, True)),
                      ("per-channel input", lambda: TF.batch_norm(xc, mean, var))):
        _integer._local.last = None
        with torch.no_grad():
            fn()
        assert _integer.last_path() != "batch_norm:integer", label
    wg = w.clone().requires_grad_()
    y = TF.batch_norm(x, mean, var, wg)
    assert y.requires_grad and _integer.last_path() != "batch_norm:integer"
    with ff.strict_quantization(True), torch.no_grad():
        try:
            TF.batch_norm(x, mean, var)
        except QuantizationError:
            pass
        else:
            raise AssertionError("strict quantization: no error")


def test_torch_quantization_keeps_the_strides_of_dims_of_one_element():
    # A dim of one element addresses nothing, but torch reads its stride when it picks a
    # memory format: a conv of a one-image channels_last batch (or of a one-pixel-wide
    # image) gave NCHW or channels_last depending on whether the quantizer's values came
    # from libffqrt (the input's strides) or from torch ops (reshapes that make those
    # strides up), so the integer switch changed the simulated conv's layout under autograd.
    need_c()
    torch.manual_seed(15)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-2.0, 2.0)
    w = torch.randn(2, 3, 3, 3)
    for shape in ((1, 3, 4, 1), (1, 3, 7, 5), (2, 3, 1, 5)):
        x = torch.randn(shape).contiguous(memory_format=torch.channels_last)
        for grad in (True, False):
            seen = []
            for on in (True, False):
                with _integer.integer_execution(on), torch.set_grad_enabled(grad):
                    y = q(x)
                    d = y.dequantize()
                    seen.append((y.raw_data.stride(), d.stride(), TF.conv2d(d, w, padding=1).stride()))
            assert seen[0] == seen[1] and seen[0][0] == x.stride(), (shape, grad, seen)


GENERATED_ACTIVATIONS = """
import fastforward
import torch


# (subclasses of torch's: the quantized classes below are recorded for these, not torch's)
class Hardswish(torch.nn.Hardswish):
    pass


class LeakyReLU(torch.nn.LeakyReLU):
    pass


class Tanh(torch.nn.Tanh):
    pass


class QuantizedHardswish(fastforward.nn.QuantizedModule, Hardswish):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_hardswish: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        \"\"\"
        Runs the forward pass.
        \"\"\"
        input = self.quantizer_input(input)
        return fastforward.nn.functional.hardswish(
            input, self.inplace, output_quantizer=self.quantizer_hardswish
        )


class QuantizedLeakyReLU(fastforward.nn.QuantizedModule, LeakyReLU):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_leaky_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        return fastforward.nn.functional.leaky_relu(
            input, self.negative_slope, self.inplace, output_quantizer=self.quantizer_leaky_relu
        )


class QuantizedTanh(fastforward.nn.QuantizedModule, Tanh):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_tanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        y = fastforward.nn.functional.tanh(input, output_quantizer=self.quantizer_tanh)
        return y
"""


def test_generated_activation_modules_run_the_activation_plan():
    """A quantized activation class as ffq autoquant writes it (the input quantized by one
    slot, then one table op onto another slot's grid: nn.Hardswish, nn.LeakyReLU with its
    slope read from the module) gets the built-in activation layers' plan: its input
    quantizer module is never called (a float input goes straight to int8 codes, a batch
    norm's result through the codes it was computed from), with the ordinary forward's and
    the simulation's result bit for bit. The plan follows every change (the slope, the
    quantizer ranges, a hook on a quantizer, autograd, plans off); a forward of any other
    shape is left as it is. Loaded as ff.quantize loads ffq's output (in memory) and from a
    file."""
    need_c()
    from fastforward.quantization import workflow

    loaded = []
    tag = "TestGeneratedActivations%d" % os.getpid()
    workflow._load_generated(GENERATED_ACTIVATIONS, tag)
    loaded.append(next(m for n, m in sys.modules.items() if n.startswith("fastforward_generated_" + tag)))
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "ff_generated_acts_%d.py" % os.getpid()), "w") as f:
            f.write(GENERATED_ACTIVATIONS)
        sys.path.insert(0, d)
        try:
            import importlib
            loaded.append(importlib.import_module("ff_generated_acts_%d" % os.getpid()))
        finally:
            sys.path.remove(d)
    rng = random.Random(83)
    calls, lookups = [], []  # the LinearQuantizers called; lut8_channels calls
    real_forward = LinearQuantizer.forward

    def counting_forward(self, *args, **kwargs):
        calls.append(self)
        return real_forward(self, *args, **kwargs)

    LinearQuantizer.forward = counting_forward
    try:
        with counted(_ffqrt, "lut8_channels", lookups):
            for module in loaded:
                assert getattr(module.QuantizedHardswish.forward, "_ff_activation", None) is not None
                assert getattr(module.QuantizedLeakyReLU.forward, "_ff_activation", None) is not None
                assert getattr(module.QuantizedTanh.forward, "_ff_activation", None) is None  # (another shape)
                for trial in range(12):
                    check_generated_activation(module, trial, rng, calls, lookups)
    finally:
        LinearQuantizer.forward = real_forward


def check_generated_activation(module, trial, rng, calls, lookups):
    """One layer of test_generated_activation_modules_run_the_activation_plan."""
    hardswish = trial % 2 == 0
    layer = module.QuantizedHardswish() if hardswish else module.QuantizedLeakyReLU(0.125)
    out_slot = "quantizer_hardswish" if hardswish else "quantizer_leaky_relu"
    shape = (rng.randint(1, 2), 3, rng.randint(1, 6), rng.randint(1, 6))
    x = torch.randn(shape) * 3
    layer.quantizer_input = out_quantizer(x, rng, pow2=trial % 3 == 0)
    setattr(layer, out_slot, out_quantizer(TF.hardswish(x) if hardswish else x, rng))

    def check(what, planned, inp=x):
        before = len(calls)
        with torch.no_grad():
            got = layer(inp)
            quantized = calls[before:].count(layer.quantizer_input)  # (a new table calls the other)
            ordinary = without_plans(lambda: layer(inp))
            want = simulated(lambda: layer(inp))
        assert (quantized == 0) == planned, (what, trial, quantized)
        assert_exact(got, ordinary, "%s, trial %d: plan vs ordinary" % (what, trial))
        assert_exact(got, want, "%s, trial %d: plan vs simulation" % (what, trial))

    check("float input", True)
    # a batch norm's result: looked up through the codes it was computed from
    xq = act(shape, rng)
    mean, var = torch.randn(3), torch.rand(3) + 0.5
    with torch.no_grad():
        bn = TF.batch_norm(xq, mean, var, None, None, False, 0.1, 1e-5)
    n = len(lookups)
    check("batch norm result", True, bn)
    assert len(lookups) == n + 1, trial  # (the plan's; the others quantize the floats)
    if not hardswish:
        layer.negative_slope = 0.5  # read per call: a new table
        check("new slope", True)
    q = getattr(layer, out_slot)
    lo, hi = (float(torch.as_tensor(v).detach()) for v in q.quantization_range)
    q.quantization_range = (lo * 2, hi * 2)
    check("new output range", True)
    handle = layer.quantizer_input.register_forward_hook(lambda m, a, y: None)
    check("hooked quantizer", False)
    handle.remove()
    check("hook removed", True)
    before = len(calls)
    with torch.enable_grad():
        layer(x.clone().requires_grad_())
    assert layer.quantizer_input in calls[before:], "autograd: the ordinary forward"

GENERATED_BATCH_NORM_ACT = """
import fastforward
import torch
from torch.nn import functional as F


class Drop(torch.nn.Identity):
    pass


class BatchNormAct(torch.nn.BatchNorm2d):
    def __init__(self, c, act):
        super().__init__(c)
        self.drop = Drop()
        self.act = act


class QuantizedDrop(fastforward.nn.QuantizedModule, Drop):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, input):
        \"\"\"
        Runs the forward pass.
        \"\"\"
        return input


class QuantizedBatchNormAct(fastforward.nn.QuantizedModule, BatchNormAct):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        assert x.ndim == 4, f"expected 4D input (got {x.ndim}D input)"
        if self.momentum is None:
            exponential_average_factor = 0.0
        else:
            exponential_average_factor = self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
        if self.training:
            bn_training = True
        else:
            bn_training = (self.running_mean is None) and (self.running_var is None)
        x = F.batch_norm(
            x,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight,
            self.bias,
            bn_training,
            exponential_average_factor,
            self.eps,
        )
        x = self.drop(x)
        x = self.act(x)
        return x


class EarlyReturn(BatchNormAct):
    pass


class QuantizedEarlyReturn(fastforward.nn.QuantizedModule, EarlyReturn):
    def forward(self, x):
        if x.numel() == 0:
            return x
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.1, self.eps)
        x = self.act(x)
        return x
"""


def test_batch_norm_then_activation_modules_never_make_the_float_result():
    """A module whose generated forward ends with a batch norm whose result only passes
    through its children (an identity, then an activation layer with a plan: timm's
    BatchNormAct2d) runs its statements before the batch norm, then looks the activation's
    codes up from the batch norm's input codes in one C call: the batch norm's float result
    is never computed (no affine or float-table pass), bit for bit the ordinary forward and
    the simulation (ReLU and SiLU, several grids and shapes). Anything else runs the
    forward's own statements: training mode, a hook on the activation, a dropout in place of
    the identity, a channels_last input, plans off; a statistic changed in place is seen;
    strict quantization raises as before; the statements before the batch norm (the shape
    assertion) still run."""
    need_c()
    from fastforward import _layer_plan
    from fastforward.quantization import workflow

    tag = "TestBatchNormAct%d" % os.getpid()
    workflow._load_generated(GENERATED_BATCH_NORM_ACT, tag)
    module = next(m for n, m in sys.modules.items() if n.startswith("fastforward_generated_" + tag))
    assert getattr(module.QuantizedBatchNormAct.forward, "_ff_batch_norm_act", None) is not None
    assert getattr(module.QuantizedEarlyReturn.forward, "_ff_plan", None) is None  # (a return before it)
    rng = random.Random(89)
    floats, lookups = [], []
    with counted(_ffqrt.AffineChannelsCall, "__call__", floats), counted(_ffqrt, "lut_f32_channels", floats), \
            counted(_ffqrt, "lut8_channels", lookups):
        for trial in range(16):
            c = rng.choice([1, 3, 16])
            shape = (rng.randint(1, 2), c, rng.randint(1, 9), rng.randint(1, 9))
            act_layer = [torch.nn.ReLU(), torch.nn.SiLU()][trial % 2]
            layer = ff.quantize_model(torch.nn.Sequential(module.BatchNormAct(c, act_layer)))[0]
            assert type(layer).__name__ == "QuantizedBatchNormAct" and type(layer.drop).__name__ == "QuantizedDrop"
            layer.eval()
            with torch.no_grad():
                layer.running_mean.copy_(torch.randn(c))
                layer.running_var.copy_(torch.rand(c) + 0.1)
                layer.weight.copy_(torch.randn(c))
                layer.bias.copy_(torch.randn(c))
            x = act(shape, rng, pow2=trial % 3 == 0)
            with torch.no_grad():
                ref = TF.batch_norm(x.dequantize(), layer.running_mean, layer.running_var, layer.weight, layer.bias,
                                    False, 0.1, layer.eps)
            layer.act.input_quantizer = out_quantizer(ref, rng, pow2=trial % 4 == 0)
            layer.act.output_quantizer = out_quantizer(TF.silu(ref), rng)
            if trial % 4 == 2:  # ReLU on a grid of no negative values onto the same grid: every code to itself
                for slot in ("input_quantizer", "output_quantizer"):
                    q = LinearQuantizer(8, symmetric=False)
                    q.quantization_range = (0.0, float(ref.abs().max()) + 0.01)
                    setattr(layer.act, slot, q)

            def check(what, fused, inp=x):
                before, seen = len(floats), len(lookups)
                with torch.no_grad():
                    got = layer(inp)
                    made, looked = len(floats) - before, len(lookups) - seen
                    ordinary = without_plans(lambda: layer(inp))
                    want = simulated(lambda: layer(inp))
                assert (made == 0) == fused, (what, trial, made)
                assert not fused or looked == 1, (what, trial, looked)
                assert_exact(got, ordinary, "%s, trial %d: plan vs ordinary" % (what, trial))
                assert_exact(got, want, "%s, trial %d: plan vs simulation" % (what, trial))

            check("eval", True)
            if trial % 4 == 2:
                p = _layer_plan._plans[layer.act]
                assert torch.equal(_integer._lut("relu", p.extra, p.in_qp, p.how[1][1], p.how[1][0]), _integer._IDENTITY)
            with torch.no_grad():
                layer.running_var.mul_(1.5)  # in place: seen
            check("statistic changed", True)
            with torch.inference_mode():
                before = len(floats)
                got = layer(x)
                assert len(floats) == before, trial
            assert_exact(got, simulated(lambda: layer(x)), "inference_mode, trial %d" % trial)
            if trial % 4 == 0:
                handle = layer.act.register_forward_hook(lambda m, a, y: None)
                check("hooked activation", False)
                handle.remove()
                drop = layer.drop
                layer.drop = torch.nn.Dropout(0.5).eval()
                check("dropout", False)
                layer.drop = drop
                last = QuantizedTensor(x.raw_data.contiguous(memory_format=torch.channels_last),
                                       x.quantization_context)
                check("channels_last", last.raw_data.is_contiguous(), last)  # (c or h x w of 1: the same memory)
                check("again", True)
            if trial % 4 == 1:
                try:
                    with torch.no_grad():
                        layer(act((2, c, 3), rng))
                    raise AssertionError("the shape assertion before the batch norm did not run")
                except AssertionError as e:
                    assert "expected 4D input (got 3D input)" in str(e), e
                with ff.strict_quantization(True):
                    for on in (True, False):
                        _layer_plan._enabled[0] = on
                        try:
                            with torch.no_grad():
                                layer(x)
                            raise AssertionError("strict quantization: no error")
                        except QuantizationError:
                            pass
                        finally:
                            _layer_plan._enabled[0] = True
                layer.train()
                before = len(lookups)
                with torch.no_grad():
                    got = layer(x)
                assert len(lookups) == before, "training: the batch's statistics, not the fused lookup"
                layer.eval()


# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals(), lambda: "libffqrt: %s (%s), threads %d" % (_ffqrt.library_path(), _ffqrt.isa(), torch.get_num_threads())))

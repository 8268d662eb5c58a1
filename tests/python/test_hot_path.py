"""Tests of the hot path of quantizer + functional op (issue 15, "no repeated work"):
the prepared fast path of ``LinearQuantizer`` against the general quantization, the int8
codes a quantization attaches to its result, the packs and float biases kept on a weight,
and ``try_call`` (predicate and kernel in one call) against the dispatcher's order. Every
cache is checked for invalidation: in-place changes, replaced tensors, changed settings.

    FFQRT_LIBRARY=build/runtime/libffqrt.so python3 tests/python/test_hot_path.py
    FFQRT_LIBRARY=build/runtime/libffqrt.so /usr/bin/python3 tests/python/test_hot_path.py

Without the library every test SKIPs with the reason (exit 77 when all did).
"""

import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import fastforward as ff  # noqa: E402
import torch  # noqa: E402
from fastforward import _ffqrt, _integer, dispatcher  # noqa: E402
from fastforward.nn import LinearQuantizer  # noqa: E402
from fastforward.quantization.affine import AffineQuantizationFunction, quantize_per_channel  # noqa: E402
from fastforward.quantized_tensor import _CODES, QuantizedTensor  # noqa: E402
from plain_runner import Skipped, isolation, run  # noqa: E402

F = ff.nn.functional


def need_c():
    if not _ffqrt.available():
        raise Skipped("libffqrt not loaded (set FFQRT_LIBRARY to build/runtime/libffqrt.so)")


def general(q, x):
    """What ``q(x)`` computes without the fast path: the quantization function itself."""
    return AffineQuantizationFunction.quantize(x, q.quantization_parameters())


def bits(t):
    """A tensor's bytes as integers (so -0.0 and +0.0 differ)."""
    if t.dtype == torch.float32:
        return t.contiguous().view(torch.int32)
    return t


def assert_same_quantization(got, want, q, what):
    assert type(got) is QuantizedTensor and type(want) is QuantizedTensor, what
    g, w = got.raw_data, want.raw_data
    assert g.dtype == w.dtype and g.shape == w.shape, "%s: %s %s vs %s %s" % (what, g.dtype, tuple(g.shape), w.dtype,
                                                                             tuple(w.shape))
    assert torch.equal(bits(g), bits(w)), "%s: raw data differ" % what
    gp, wp = got.quantization_context.quantization_params, want.quantization_context.quantization_params
    assert gp.scale is q.scale and gp.offset is q.offset, "%s: the context does not hold the quantizer's tensors" % what
    for name in ("num_bits", "granularity", "quantized_dtype", "dequantize_dtype"):
        assert getattr(gp, name) == getattr(wp, name), "%s: %s %r vs %r" % (what, name, getattr(gp, name),
                                                                          getattr(wp, name))
    assert got.quantization_context.quantization_fn is AffineQuantizationFunction
    assert torch.equal(bits(got.dequantize()), bits(want.dequantize())), "%s: dequantized values differ" % what


def quantizer(rng, symmetric, one_sided=True, dtype=None):
    q = LinearQuantizer(8, symmetric=symmetric, allow_one_sided=one_sided, quantized_dtype=dtype)
    lo = rng.choice([-3.0, -0.7, 0.0, 0.25]) if not symmetric or one_sided else -2.0
    q.quantization_range = (lo, lo + rng.uniform(0.5, 5.0))
    return q


def data(rng, shape):
    x = torch.randn(shape) * rng.uniform(0.5, 4.0)
    if x.numel() >= 8:
        flat = x.view(-1)
        flat[:6] = torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e30, -1e-30])
    return x


SHAPES = [(1,), (7,), (3, 5), (2, 3, 17), (64, 33), (1, 4, 5, 6)]


def test_fast_quantizer_equals_the_general_path():
    """Values (bit for bit, -0 and NaN included), storage dtype and context of the fast path
    equal the quantization function's, for symmetric, one-sided and asymmetric quantizers,
    float and int8 storage, with the integer path on and off."""
    need_c()
    rng = random.Random(1)
    for integer in (True, False):
        for trial in range(24):
            q = quantizer(rng, symmetric=trial % 3 != 0, one_sided=trial % 2 == 0,
                          dtype=[None, torch.float32, torch.int8][trial % 3])
            x = data(rng, SHAPES[trial % len(SHAPES)])
            what = "trial %d integer=%s (%s)" % (trial, integer, q.extra_repr())
            with torch.no_grad(), _integer.integer_execution(integer):
                got = q(x)
                want = general(q, x)
            assert_same_quantization(got, want, q, what)
            # The fast path ran: with the integer path on it leaves the int8 codes behind.
            assert (_CODES in got.__dict__) == (integer or q.quantized_dtype == torch.int8), what
            if integer:
                codes = got.__dict__[_CODES]
                assert torch.equal(codes.q8, want.raw_data.to(torch.int8)), what


def test_fast_quantizer_follows_the_quantizer():
    """A changed range (in place), replaced scale / offset tensors, another bit width,
    granularity or storage dtype: each next call equals the general path again."""
    need_c()
    rng = random.Random(2)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-1.0, 2.0)
    x = data(rng, (6, 20))
    changes = [
        lambda: setattr(q, "quantization_range", (-4.0, 0.5)),  # in place
        lambda: q.scale.data.mul_(1.5),  # in place, behind autograd's back
        lambda: setattr(q, "scale", torch.nn.Parameter(q.scale.detach() * 0.25)),  # replaced
        lambda: setattr(q, "offset", torch.nn.Parameter(q.offset.detach() + 3.0)),
        lambda: setattr(q, "quantized_dtype", torch.int8),
        lambda: setattr(q, "quantized_dtype", None),
        lambda: setattr(q, "num_bits", 4),
        lambda: setattr(q, "num_bits", 8),
        lambda: setattr(q, "granularity", ff.PerTensor()),  # an equal but new granularity
    ]
    with torch.no_grad():
        for i, change in enumerate(changes):
            q(x)  # prepared for the state before the change
            change()
            assert_same_quantization(q(x), general(q, x), q, "after change %d" % i)
        q.granularity = ff.PerChannel(1)
        q.reset_parameters()
        q.quantization_range = (torch.full((20,), -1.0), torch.linspace(0.5, 3.0, 20))
        got = q(x)
        assert _CODES not in got.__dict__, "per channel: not the per-tensor fast path"
        assert_same_quantization(got, general(q, x), q, "per channel")


def test_fast_quantizer_takes_transposed_and_permuted_inputs():
    """A float input that is a permutation of a dense layout (a transpose, a permute) is
    quantized in memory order by the fast path: the values, and the result's layout, are
    the general path's (torch's elementwise ops keep the input's strides)."""
    need_c()
    rng = random.Random(9)
    base = data(rng, (2, 5, 6, 7))
    views = [("t", data(rng, (8, 12)).t()), ("transpose(1, 2)", base.transpose(1, 2)),
             ("permute", base.permute(3, 1, 0, 2)), ("channels_last", base.contiguous(memory_format=torch.channels_last)),
             ("size-1 dims", data(rng, (1, 9, 1, 4)).transpose(0, 3))]
    for integer in (True, False):
        for trial, (what, x) in enumerate(views):
            q = quantizer(rng, symmetric=trial % 2 == 0, dtype=[None, torch.int8][trial % 2])
            with torch.no_grad(), _integer.integer_execution(integer):
                got, want = q(x), general(q, x)
            assert_same_quantization(got, want, q, what)
            # (the stride of a size-1 dimension is never used: torch sets it its own way)
            layout = [[st for st, sz in zip(t.stride(), t.shape) if sz != 1] for t in (got.raw_data, want.raw_data)]
            assert layout[0] == layout[1], "%s: laid out as %s, not %s" % (what, layout[0], layout[1])
            assert (_CODES in got.__dict__) == (integer or q.quantized_dtype == torch.int8), what + ": the fast path ran"
            if _CODES in got.__dict__:
                assert torch.equal(got.__dict__[_CODES].q8, want.raw_data.to(torch.int8)), what


def test_fast_quantizer_leaves_other_calls_to_the_general_path():
    """Autograd, non-dense and non-float32 inputs, parameters and subclasses take the general
    path (and give its results)."""
    need_c()
    rng = random.Random(3)
    q = quantizer(rng, symmetric=False)
    x = data(rng, (8, 12))
    with torch.no_grad():
        for what, value in (("every other column", x[:, ::2]), ("expanded", x[:1].expand(8, 12)),
                            ("float64", x.double()), ("empty", torch.empty(0, 4))):
            got = q(value)
            assert _CODES not in got.__dict__, what
            assert torch.equal(bits(got.raw_data), bits(general(q, value).raw_data)), what
        p = torch.nn.Parameter(x.clone())
        assert torch.equal(q(p).raw_data, general(q, p).raw_data)

    class Sub(LinearQuantizer):
        def quantization_parameters(self):
            params = super().quantization_parameters()
            return params.with_changes(scale=params.scale * 2)

    s = Sub(8, symmetric=False)
    s.quantization_range = (-1.0, 2.0)
    with torch.no_grad():
        assert torch.equal(s(x).raw_data, general(s, x).raw_data), "a subclass's parameters are used"
    y = q(x.clone().requires_grad_())  # autograd: the general path, with its graph
    assert y.requires_grad and _CODES not in y.__dict__


def freeze(w):
    scale = w.reshape(w.shape[0], -1).abs().amax(1).clamp_min(1e-8) / 127
    qt = quantize_per_channel(w, scale, None, axis=0)
    return QuantizedTensor(qt.raw_data.to(torch.int8), qt.quantization_context)


def simulated(fn):
    with _integer.integer_execution(False):
        return fn()


def close(a, b, what):
    if isinstance(a, QuantizedTensor):
        a, b = a.dequantize(), b.dequantize()
        step = float(b.abs().max()) / 64 + 1e-6  # within a step of a coarse grid, at most
    else:
        step = 1e-4 * float(b.abs().max()) + 1e-5
    worst = float((a - b).abs().max())
    assert worst <= step, "%s: differs from the simulated path by %g" % (what, worst)


def test_codes_attached_by_a_quantizer_are_never_stale():
    need_c()
    rng = random.Random(4)
    q = quantizer(rng, symmetric=False)
    w = freeze(torch.randn(6, 16))
    x = torch.randn(5, 16)
    with torch.no_grad():
        qx = q(x)
        act = _integer._activation(qx)
        assert act.raw is qx.__dict__[_CODES].q8, "the attached codes are read, not recomputed"
        y = F.linear(qx, w)
        assert _integer.last_path() == "linear:integer"
        close(y, simulated(lambda: F.linear(qx, w)), "linear of fresh codes")
        qx.raw_data[0, :3] = torch.tensor([-128.0, 127.0, 3.0])  # the raw data changed in place
        assert _integer._activation(qx).raw is not qx.__dict__[_CODES].q8
        assert torch.equal(_integer._activation(qx).raw, qx.raw_data.to(torch.int8))
        y = F.linear(qx, w)
        close(y, simulated(lambda: F.linear(qx, w)), "linear after an in-place change of the raw data")
        qx = q(x)
        q.scale.data.mul_(2.0)  # the context holds the quantizer's scale: its meaning changed
        assert _integer._activation(qx).qp.scale == float(q.scale)
        close(F.linear(qx, w), simulated(lambda: F.linear(qx, w)), "linear after the scale changed")
        qx = q(x)
        qx.__dict__[_CODES].q8.fill_(0)  # someone wrote the shared codes: not trusted either
        assert torch.equal(_integer._activation(qx).raw, qx.raw_data.to(torch.int8))
    with torch.inference_mode():
        # the quantizer makes its results as ordinary tensors here too, so that the codes
        # (kept by version counters, which inference tensors lack) are attached and read
        qx = q(x)
        assert not qx.raw_data.is_inference()
        assert _integer._activation(qx).raw is qx.__dict__[_CODES].q8
        y = F.linear(qx, w)
        assert _integer.last_path() == "linear:integer"
        close(y, simulated(lambda: F.linear(qx, w)), "linear under inference_mode")
        qx.raw_data[0, :2] = torch.tensor([127.0, -128.0])  # still noticed in place
        assert torch.equal(_integer._activation(qx).raw, qx.raw_data.to(torch.int8))
        close(F.linear(qx, w), simulated(lambda: F.linear(qx, w)), "linear after a write under inference_mode")


def test_kernel_outputs_carry_their_codes():
    """A requantized output hands its int8 codes to the next kernel; the chain equals the
    simulated chain, also after the intermediate result was changed in place."""
    need_c()
    torch.manual_seed(5)
    q_in = LinearQuantizer(8, symmetric=False)
    q_in.quantization_range = (-3.0, 3.0)
    q_mid = LinearQuantizer(8, symmetric=False)
    q_mid.quantization_range = (-6.0, 6.0)
    w1, w2 = freeze(torch.randn(12, 16)), freeze(torch.randn(4, 12))
    x = torch.randn(3, 16)
    with torch.no_grad():
        h = F.linear(q_in(x), w1, output_quantizer=q_mid)
        assert _integer.last_path() == "linear:integer" and _CODES in h.__dict__
        assert _integer._activation(h).raw is h.__dict__[_CODES].q8
        y = F.linear(h, w2)
        close(y, simulated(lambda: F.linear(simulated(lambda: F.linear(q_in(x), w1, output_quantizer=q_mid)), w2)),
              "chain")
        h.raw_data[0, 0] = 100  # int8 storage, changed in place
        assert _integer._activation(h).raw[0, 0] == 100
        close(F.linear(h, w2), simulated(lambda: F.linear(h, w2)), "chain after an in-place change")


def test_shape_ops_carry_the_codes():
    """A shape op on a quantized tensor moves its codes along (the same op on them); the
    result's codes equal its raw data, and follow in-place changes of either tensor."""
    need_c()
    rng = random.Random(9)
    q = quantizer(rng, symmetric=False)
    x, y = torch.randn(6, 10), torch.randn(4, 10)
    with torch.no_grad():
        a, b = q(x), q(y)
        for name, view in (("transpose", lambda t: t.transpose(0, 1)), ("t", lambda t: t.t()),
                           ("reshape", lambda t: t.reshape(4, 5, 2)), ("flatten", lambda t: torch.flatten(t)),
                           ("unsqueeze", lambda t: t.unsqueeze(0)), ("contiguous", lambda t: t.t().contiguous())):
            v = view(b)
            assert _CODES in v.__dict__, name
            assert torch.equal(_integer._activation(v).raw, v.raw_data.to(torch.int8)), name
        bt = b.transpose(0, 1)
        got = F.matmul(a, bt)
        assert _integer.last_path() == "matmul:integer"
        close(got, simulated(lambda: F.matmul(a, bt)), "matmul with a transposed operand")
        b.raw_data[0, 0] = 7.0  # the source changed in place: the view's codes are stale now
        assert int(_integer._activation(bt).raw[0, 0]) == 7
        close(F.matmul(a, bt), simulated(lambda: F.matmul(a, bt)), "after an in-place change")


def test_python_floats_are_quantized_once():
    """Generated code quantizes Python constants on every call (attention's scaling, a
    norm's epsilon): outside autograd a LinearQuantizer returns its previous result for the
    same value, and quantizes again for another value, another sign of zero, another
    default dtype, a changed scale (in place or through ``.data``) and under autograd. The
    same memo follows a weight whose per-tensor scale is written through ``.data``."""
    need_c()
    from fastforward.nn.quantizer import _FLOAT_OUTPUTS

    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-0.5, 0.75)

    def qf(value):
        # a float comes back as the Python float of its quantized value; the memo is on the
        # quantizer's 0-d result, which that float is read from once
        out = q(value)
        result = _FLOAT_OUTPUTS[q][0]
        assert type(out) is float and out == float(result.dequantize())
        return result

    def fresh(value):
        return general(q, torch.tensor(value, dtype=torch.get_default_dtype()))

    for mode in (torch.no_grad, torch.inference_mode):
        with mode():
            a = qf(0.125)
            assert qf(0.125) is a, "the same float: the previous result"
            assert torch.equal(a.dequantize(), fresh(0.125).dequantize())
            b = qf(0.3)
            assert b is not a and torch.equal(b.dequantize(), fresh(0.3).dequantize())
            z = qf(0.0)
            assert qf(-0.0) is not z, "-0.0 and 0.0 are different floats"
            a = qf(0.125)
            with torch.no_grad():
                q.scale.mul_(1.5)  # in place: the version counter moves
            c = qf(0.125)
            assert c is not a and torch.equal(c.dequantize(), fresh(0.125).dequantize())
            q.scale.data.mul_(0.5)  # through .data: the value moves
            d = qf(0.125)
            assert d is not c and torch.equal(d.dequantize(), fresh(0.125).dequantize())
            q.scale.data.mul_(4.0 / 3.0)
    with torch.no_grad():
        a = qf(0.125)
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            e = qf(0.125)
        finally:
            torch.set_default_dtype(old)
        assert e is not a
    a = qf(0.125)  # autograd on: quantized anew
    assert qf(0.125) is not a
    # a parameter (a weight) and its per-tensor scale written through .data
    w = torch.nn.Parameter(torch.randn(4, 3))
    wq = LinearQuantizer(8, symmetric=True)
    wq.quantization_range = (-3.0, 3.0)
    with torch.no_grad():
        first = wq(w)
        assert wq(w) is first
        wq.scale.data.mul_(2.0)
        second = wq(w)
        assert second is not first
        assert torch.equal(second.dequantize(), general(wq, w.detach()).dequantize())


def test_weight_packs_are_kept_and_invalidated():
    need_c()
    torch.manual_seed(6)
    x = torch.randn(4, 32)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-3.0, 3.0)
    raw = torch.randint(-127, 128, (8, 32), dtype=torch.int8)
    scale = torch.full((8,), 0.01)
    w = QuantizedTensor(raw, ff.quantization.affine.quantization_context(scale, None, ff.PerChannel(0)))
    bias = torch.randn(8)

    def check(what, expect_pack):
        packs = _integer.cache_info()["packs"]
        got = F.linear(q(x), w, bias)
        assert _integer.last_path() == "linear:integer", what
        assert _integer.cache_info()["packs"] == packs + int(expect_pack), "%s: packs %d -> %d" % (
            what, packs, _integer.cache_info()["packs"])
        close(got, simulated(lambda: F.linear(q(x), w, bias)), what)
        return got

    with torch.no_grad():
        _integer.clear_cache()
        check("first call", True)
        hits = _integer.cache_info()["hits"]
        for i in range(3):
            check("call %d" % i, False)
        assert _integer.cache_info()["hits"] >= hits + 3
        raw[0].neg_()  # the owner changed in place: the weight's view shares its version counter
        check("after raw[0].neg_()", True)
        scale.mul_(2)
        check("after scale.mul_(2)", True)
        params = w.quantization_context.quantization_params
        params.scale = scale * 0.5  # another scale tensor in the (mutable) parameters
        check("after replacing the scale tensor", True)
        bias.add_(1.0)  # in place: the kept float bias is not reused
        check("after bias.add_", False)
        bias = torch.randn(8)
        check("with another bias", False)
        _integer.clear_cache()
        check("after clear_cache", True)
        w2 = QuantizedTensor(raw, w.quantization_context)  # same memory, new tensor: the owner's cache
        packs = _integer.cache_info()["packs"]
        F.linear(q(x), w2, bias)
        assert _integer.cache_info()["packs"] == packs
    y = F.linear(q(x), w, bias)  # autograd on: the kept pack is not used blindly, results equal
    close(y, simulated(lambda: F.linear(q(x), w, bias)), "with autograd on")


def test_packs_made_under_inference_mode_are_checked_once():
    """A pack made by the first call inside ``torch.inference_mode`` (the usual first
    forward) is an ordinary tensor, so the check of its header is remembered by the pack's
    version counter: later calls do not read the header through ctypes again."""
    need_c()
    torch.manual_seed(8)
    raw = torch.randint(-127, 128, (6, 16), dtype=torch.int8)
    scale = torch.full((6,), 0.02)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-2.0, 2.0)
    x = torch.randn(3, 16)
    reads = []
    real = _ffqrt.linear_pack_dims

    def counting(packed):
        reads.append(1)
        return real(packed)

    with torch.inference_mode():
        packed = _ffqrt.linear_pack(raw, scale)
        assert not packed.is_inference(), "a pack made under inference_mode must keep a version counter"
        w = QuantizedTensor(raw, ff.quantization.affine.quantization_context(scale, None, ff.PerChannel(0)))
        _integer.clear_cache()
        F.linear(q(x), w, None, strict_quantization=False)  # packs the weight
        _ffqrt.linear_pack_dims = counting
        try:
            for _ in range(3):
                got = F.linear(q(x), w, None, strict_quantization=False)
                assert _integer.last_path() == "linear:integer"
        finally:
            _ffqrt.linear_pack_dims = real
        assert not reads, "the kept pack was checked again %d times" % len(reads)
        close(got, simulated(lambda: F.linear(q(x), w, None, strict_quantization=False)), "inference_mode pack")


def test_inline_linear_equals_the_planned_path():
    """The inline case of linear's try_call gives bit for bit what the planned path (the
    kernel itself) gives, for 2-D, 3-D and transposed inputs, with and without bias and
    output quantizer."""
    need_c()
    rng = random.Random(11)
    q = quantizer(rng, symmetric=False)
    oq = LinearQuantizer(8, symmetric=False)
    oq.quantization_range = (-5.0, 5.0)
    w = freeze(torch.randn(7, 12))
    b = torch.randn(7)
    planned = []
    original = _integer._linear_weight
    _integer._linear_weight = lambda weight, *kind: planned.append(1) or original(weight, *kind)
    try:
        with torch.no_grad():
            for what, x in (("2-D", q(torch.randn(5, 12))), ("3-D", q(torch.randn(2, 3, 12))),
                            ("transposed", q(torch.randn(12, 4)).t())):
                for bias in (None, b):
                    for out in (None, oq):
                        F.linear(x, w, bias, output_quantizer=out)  # the pack is made here
                        del planned[:]
                        got = F.linear(x, w, bias, output_quantizer=out)
                        assert planned == [] and _integer.last_path() == "linear:integer", what
                        want = _integer.KERNELS["linear"](input=x, weight=w, bias=bias, output_quantizer=out,
                                                          strict_quantization=False)
                        assert planned, "the kernel itself plans"
                        g = got.raw_data if out is not None else got
                        h = want.raw_data if out is not None else want
                        assert g.dtype == h.dtype and torch.equal(bits(g), bits(h)), "%s bias=%s out=%s" % (
                            what, bias is not None, out is not None)
                        if out is not None:
                            assert got.quantization_context is want.quantization_context
    finally:
        _integer._linear_weight = original


def test_conv_packs_are_kept_and_invalidated():
    need_c()
    torch.manual_seed(10)
    q = LinearQuantizer(8, symmetric=False)
    q.quantization_range = (-3.0, 3.0)
    w = freeze(torch.randn(6, 4, 3, 3))
    w1 = freeze(torch.randn(6, 4, 3))
    bias = torch.randn(6)
    x, x1 = torch.randn(2, 4, 9, 9), torch.randn(2, 4, 11)

    def check(what, expect_pack, conv=F.conv2d, weight=None, inp=None):
        weight, inp = w if weight is None else weight, x if inp is None else inp
        packs = _integer.cache_info()["packs"]
        got = conv(q(inp), weight, bias, 1, 1)
        assert _integer.last_path().endswith(":integer"), what
        assert _integer.cache_info()["packs"] == packs + int(expect_pack), what
        close(got, simulated(lambda: conv(q(inp), weight, bias, 1, 1)), what)

    with torch.no_grad():
        _integer.clear_cache()
        check("first", True)
        check("again", False)
        check("another input size", False, inp=torch.randn(1, 4, 5, 7))  # one pack for every input size
        w.raw_data[0, 0, 0, 0] = -w.raw_data[0, 0, 0, 0] - 1  # in place
        check("after an in-place change of the weight", True)
        bias.mul_(-1.0)
        check("after an in-place change of the bias", False)
        check("conv1d", True, conv=F.conv1d, weight=w1, inp=x1)
        check("conv1d again", False, conv=F.conv1d, weight=w1, inp=x1)


def test_try_call_keeps_the_dispatch_order():
    """The functional ops call the first registered kernel's try_call; a user kernel
    registered in front of the integer one still wins, and one that refuses passes on."""
    need_c()
    rng = random.Random(7)
    q = quantizer(rng, symmetric=False)
    w = freeze(torch.randn(5, 9))
    x = torch.randn(2, 9)
    calls = []
    with torch.no_grad():
        with dispatcher.register("linear", lambda **kw: True, lambda **kw: calls.append(1) or "user"):
            assert F.linear(q(x), w) == "user" and calls == [1]
        with dispatcher.register("linear", lambda **kw: False, lambda **kw: "never"):
            _integer._local.last = None
            y = F.linear(q(x), w)
            assert _integer.last_path() == "linear:integer" and isinstance(y, torch.Tensor)
        with dispatcher.register("linear", lambda **kw: True, lambda **kw: "fallback",
                                 dispatcher.DispatcherPriority.FALLBACK):
            assert isinstance(F.linear(q(x), w), torch.Tensor) and _integer.last_path() == "linear:integer"
        # torch calls on QuantizedTensors (QuantizedTensor.__torch_function__) alike
        a, bt = q(torch.randn(3, 9)), q(torch.randn(4, 9)).t()
        with dispatcher.register("matmul", lambda *a, **k: True, lambda *a, **k: "user"):
            assert torch.matmul(a, bt) == "user"
        _integer._local.last = None
        got = torch.matmul(a, bt)
        assert _integer.last_path() == "matmul:integer"
        close(got, simulated(lambda: torch.matmul(a.dequantize(), bt.dequantize())), "torch.matmul")
        with _integer.integer_execution(False):  # try_call misses: the simulated path
            _integer._local.last = None
            y = F.linear(q(x), w)
            assert _integer.last_path() is None or _integer.last_path().endswith(":simulated")
            # ... and a kernel behind it runs, its predicate asked by keyword
            seen = []
            with dispatcher.register("linear", lambda **kw: seen.append(sorted(kw)) or True,
                                     lambda **kw: "behind", dispatcher.DispatcherPriority.FALLBACK):
                assert F.linear(q(x), w) == "behind"
                assert seen and "input" in seen[0] and "output_quantizer" in seen[0]

    # A first kernel whose try_call misses is not asked again through its predicate; when
    # its try_call changes the registry, the search starts over.
    asked, hooks = [], []

    def first_kernel(**kw):
        return "first"

    def first_try(**kw):
        if kw.get("input") is y_new:
            hooks.append(dispatcher.register("gelu", lambda **kw: True, lambda **kw: "new"))
        return dispatcher.MISS

    first_kernel.try_call = first_try
    y_old, y_new = torch.randn(3), torch.randn(3)
    with dispatcher.register("gelu", lambda **kw: asked.append(1) or True, first_kernel), \
            dispatcher.register("gelu", lambda **kw: True, lambda **kw: "second", dispatcher.DispatcherPriority.FALLBACK):
        assert F.gelu(y_old) == "second" and asked == []
        try:
            assert F.gelu(y_new) == "new" and asked == []
        finally:
            for hook in hooks:
                hook.remove()


def test_plans_and_caches_see_writes_through_data():
    """Writes through ``.data`` leave version counters unchanged: a layer plan, the fast
    quantizer and the kept grids still follow a quantizer scale changed that way."""
    need_c()
    from fastforward import _layer_plan

    torch.manual_seed(8)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(16, 8)))
    layer = model[0]
    layer.input_quantizer = LinearQuantizer(8, symmetric=False)
    layer.input_quantizer.quantization_range = (-3.0, 3.0)
    layer.weight_quantizer = LinearQuantizer(8, symmetric=True, allow_one_sided=False,
                                             granularity=ff.PerChannel(0))
    w = layer.weight.detach()
    layer.weight_quantizer.quantization_range = (-w.abs().amax(1), w.abs().amax(1))
    layer.output_quantizer = LinearQuantizer(8, symmetric=False)
    layer.output_quantizer.quantization_range = (-2.0, 2.0)
    x = torch.randn(4, 16)

    def ordinary():
        _layer_plan._enabled[0] = False
        try:
            return model(x)
        finally:
            _layer_plan._enabled[0] = True

    with torch.no_grad():
        for i, (quantizer, factor) in enumerate(((layer.input_quantizer, 2.0), (layer.output_quantizer, 0.5),
                                                 (layer.input_quantizer, 0.25))):
            model(x)  # planned for the state before
            quantizer.scale.data.mul_(factor)
            got, want = model(x), ordinary()
            assert _integer.last_path() == "linear:integer"
            assert torch.equal(got.raw_data, want.raw_data), "change %d: the plan used a stale grid" % i
            assert torch.equal(got.dequantize(), want.dequantize())


def test_kernels_run_on_torchs_openmp_threads():
    """Where torch's parallel backend is OpenMP, the contexts hand their work to the OpenMP
    runtime torch has loaded (not one of their own), with the same results as their own
    threads."""
    need_c()
    if "parallel backend: OpenMP" not in torch.__config__.parallel_info():
        raise Skipped("torch's parallel backend is not OpenMP")
    if os.environ.get("FFQRT_OPENMP") == "0":
        raise Skipped("FFQRT_OPENMP=0 is set")
    path = _ffqrt.torch_openmp_runtime()
    with open("/proc/self/maps") as maps:
        loaded = {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}
    assert path in loaded and "omp" in os.path.basename(path), "not a loaded OpenMP runtime: %r" % path
    lib = _ffqrt._state["lib"]
    ctx = _ffqrt.integer_context(2)
    assert lib.ffqrt_ctx_uses_openmp(ctx) == 1
    rng = random.Random(5)
    w = torch.randint(-127, 128, (96, 200), dtype=torch.int8)
    packed = _ffqrt.linear_pack(w, torch.rand(96) + 0.01)
    bias = torch.randn(96)
    for m in (1, 3, 64, 257):
        a = torch.randint(0, 256, (m, 200), dtype=torch.uint8)
        pa = _ffqrt.QParam(rng.uniform(0.01, 0.1), rng.randrange(256), torch.uint8)
        out = _ffqrt.QParam(rng.uniform(0.05, 0.5), rng.randrange(-128, 128), torch.int8)
        on = (_ffqrt.linear(a, pa, packed, bias, threads=2), _ffqrt.linear(a, pa, packed, bias, out, threads=2))
        assert lib.ffqrt_ctx_use_openmp(ctx, None) == 0 and lib.ffqrt_ctx_uses_openmp(ctx) == 0
        try:
            off = (_ffqrt.linear(a, pa, packed, bias, threads=2), _ffqrt.linear(a, pa, packed, bias, out, threads=2))
        finally:
            assert lib.ffqrt_ctx_use_openmp(ctx, path.encode()) == 0
        assert torch.equal(bits(on[0]), bits(off[0])) and torch.equal(on[1], off[1]), "m=%d" % m


def test_kernels_work_in_a_forked_child():
    """GNU libgomp's parallel regions hang in a child forked after its threads ran; a
    context that hands its work to OpenMP runs on its own threads in such a child instead.
    (torch's own parallel ops hang there too: the child here runs only libffqrt and numpy.)
    The child's CPU time is capped; a child that blocks is killed after two minutes."""
    need_c()
    if not hasattr(os, "fork"):
        raise Skipped("no os.fork on this platform")
    import resource
    import signal
    import time

    w = torch.randint(-127, 128, (256, 192), dtype=torch.int8)
    packed = _ffqrt.linear_pack(w, torch.rand(256) + 0.01)
    call = _ffqrt.StaticLinearCall(_ffqrt.QParam(0.05, 3, torch.int8), packed, torch.randn(256))
    x = torch.randn(64, 192)
    want = call(x).numpy().copy()  # (threads=2 when torch has them: the OpenMP team runs)
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 when the results are right
        code = 1
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
            ok = all((call(x).numpy() == want).all() for _ in range(3))
            code = 0 if ok else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child did not finish (hung in a parallel region)")
        time.sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "child status %r" % (status,)


def test_stub_only_layers_call_torch_directly():
    """A QuantizedLayerNorm / activation whose quantizers are all stubs calls torch's op on a
    float input directly (no stub calls, no dispatch): the same values; and it takes the
    ordinary path wherever that could differ — a QuantizedTensor input, a hook on a stub,
    a user kernel for the op, strict quantization (which raises), a real quantizer."""
    torch.manual_seed(11)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.LayerNorm(12), torch.nn.GELU(approximate="tanh"),
                                                  torch.nn.ReLU(), torch.nn.SiLU(), torch.nn.Sigmoid(),
                                                  torch.nn.Softmax(dim=-1)))
    x = torch.randn(3, 12) * 3
    expected = [lambda t: torch.nn.functional.layer_norm(t, (12,), model[0].weight, model[0].bias),
                lambda t: torch.nn.functional.gelu(t, approximate="tanh"), torch.relu, torch.nn.functional.silu,
                torch.sigmoid, lambda t: torch.softmax(t, -1)]
    stub_calls = []

    def count(mod, args):
        stub_calls.append(1)

    stub_forward = ff.nn.QuantizerStub.forward

    def counting_forward(self, data):
        stub_calls.append(1)
        return stub_forward(self, data)

    with torch.no_grad():
        for layer, want in zip(model, expected):
            stub_calls.clear()
            ff.nn.QuantizerStub.forward = counting_forward
            try:
                got = layer(x)
            finally:
                ff.nn.QuantizerStub.forward = stub_forward
            assert type(got) is torch.Tensor and torch.equal(got, want(x)), type(layer).__name__
            assert stub_calls == [], "%s called its stubs" % type(layer).__name__
            # a hook on a stub: the ordinary path, which calls it
            hook = layer.input_quantizer.register_forward_pre_hook(count)
            stub_calls.clear()
            assert torch.equal(layer(x), got) and stub_calls == [1], type(layer).__name__
            hook.remove()
        # a user kernel for the op is asked, as before
        with dispatcher.register("layer_norm", lambda **kw: True, lambda **kw: "user"), \
                dispatcher.register("gelu", lambda **kw: True, lambda **kw: "user gelu"):
            assert model[0](x) == "user" and model[1](x) == "user gelu"
        # strict quantization still refuses the float input
        with ff.strict_quantization(True):
            try:
                model[0](x)
            except ff.exceptions.QuantizationError:
                pass
            else:
                raise AssertionError("strict quantization accepted a float input")
        # a real output quantizer: the ordinary path quantizes the result
        q = LinearQuantizer(8, symmetric=False)
        q.quantization_range = (-3.0, 3.0)
        model[1].output_quantizer = q
        out = model[1](x)
        assert isinstance(out, QuantizedTensor), "the output quantizer ran"
        # a QuantizedTensor input takes the quantized op
        qx = q(x)
        model[1].output_quantizer = ff.nn.QuantizerStub(output_quantizer=True)
        got = model[1](qx)
        assert torch.equal(got, torch.nn.functional.gelu(qx.dequantize(), approximate="tanh"))


def test_activation_plans_equal_the_ordinary_forward():
    """The built-in activation layers (ReLU, SiLU, GELU both ways, Sigmoid) with static input
    and output quantizers run as one table of the input grid's codes: the values, storage
    and context of their ordinary forward (input quantizer, then the functional op's integer
    kernel), for float inputs (quantized straight to codes) and quantized ones (their
    requantization table composed with the op's); the input quantizer itself is not called
    then. A hook on it, or another output quantizer, takes the ordinary forward again."""
    need_c()
    from fastforward import _layer_plan

    rng = random.Random(11)
    layers = [torch.nn.ReLU(), torch.nn.SiLU(), torch.nn.GELU(), torch.nn.GELU(approximate="tanh"),
              torch.nn.Sigmoid()]
    model = ff.quantize_model(torch.nn.Sequential(*layers))
    for layer in model:
        for name in ("input_quantizer", "output_quantizer"):
            q = LinearQuantizer(8, symmetric=False)  # (zero points within int8: the kernels' grids)
            q.quantization_range = (rng.uniform(-4.0, -0.2), rng.uniform(0.2, 5.0))
            setattr(layer, name, q)
    src = LinearQuantizer(8, symmetric=False)
    src.quantization_range = (-3.0, 2.5)

    def ordinary(layer, x):
        _layer_plan._enabled[0] = False
        try:
            return layer(x)
        finally:
            _layer_plan._enabled[0] = True

    calls = []
    for inference in (False, True):
        with (torch.inference_mode() if inference else torch.no_grad()):
            for i, layer in enumerate(model):
                for shape in ((3, 17), (2, 4, 5, 6)):
                    x = torch.randn(shape) * 3
                    for given in (x, src(x)):
                        want = ordinary(layer, given)
                        handle = layer.input_quantizer.register_forward_pre_hook(lambda *a: calls.append(1))
                        try:
                            assert torch.equal(layer(given).raw_data, want.raw_data)  # (hook: ordinary)
                        finally:
                            handle.remove()
                        assert calls, "the hooked input quantizer was not called"
                        calls.clear()
                        got = layer(given)
                        what = "layer %d %s %s inference=%s" % (i, shape, type(given).__name__, inference)
                        assert _integer.last_path() == "%s:integer" % layer._op, what
                        assert_same_quantization(got, want, layer.output_quantizer, what)
                        assert torch.equal(got.raw_data, want.raw_data), what
                        got2 = model[(i + 1) % len(model)].input_quantizer(got)  # its codes are attached
                        want2 = model[(i + 1) % len(model)].input_quantizer(want)
                        assert torch.equal(got2.dequantize(), want2.dequantize()), what
    # the plan leaves the quantizer uncalled: a spy on its quantize sees the ordinary path only
    layer = model[0]
    seen = []
    original = LinearQuantizer.quantize
    LinearQuantizer.quantize = lambda self, data: seen.append(self) or original(self, data)
    try:
        with torch.no_grad():
            layer(torch.randn(4, 4))
            assert layer.input_quantizer not in seen, "the planned layer called its input quantizer"
            layer.output_quantizer = ff.nn.QuantizerStub(output_quantizer=True)
            out = layer(torch.randn(4, 4))
            assert layer.input_quantizer in seen and not isinstance(out, QuantizedTensor)
    finally:
        LinearQuantizer.quantize = original


# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals(), lambda: "libffqrt: %s (%s)" % (_ffqrt.library_path(), _ffqrt.isa())))

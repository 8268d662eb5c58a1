"""Randomized hostile calls of the integer path against the simulated path.

Every op the integer kernels register (``fastforward._integer.OPS``), the shape ops, torch
calls on QuantizedTensors and the layer call plans, with operands the kernels may or may
not take: empty and one-element dims, 5-D tensors, long reductions, views (offset storage,
transposed, strided, broadcast, channels_last, flipped), raw data stored as every dtype,
4-, 8- and 16-bit grids, scales tiny, huge, negative or NaN, zero points at and past the
limits, per-channel weights on other axes and per-block ones, output quantizers of every
kind, autograd on and off, 1 to 3 threads. Each call must give what the simulation
(``integer_execution(False)``) gives: the same type, shape, dtype, strides (dims of one
element aside) and gradient recording, integers within one step, floats within float
rounding, or an exception of the same type.

    FFQRT_LIBRARY=build/runtime/libffqrt.so python3 tests/python/test_integer_hostile.py
    FFQRT_LIBRARY=build/runtime/libffqrt.so /usr/bin/python3 tests/python/test_integer_hostile.py

Under the sanitizers (memory errors in libffqrt abort the run):

    meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false && ninja -C build-san
    FFQRT_LIBRARY=build-san/runtime/libffqrt.so ASAN_OPTIONS=detect_leaks=0 \\
      LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)" \\
      python3 tests/python/test_integer_hostile.py

(libstdc++ preloaded with ASan: torch throws C++ exceptions, which ASan's interceptor
cannot forward otherwise.) ``FFQ_HOSTILE_CASES=N`` runs N cases a test instead of the
default, bounded by CPU time.
"""

import copy
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import fastforward as ff  # noqa: E402
import torch  # noqa: E402
from fastforward import _ffqrt, _integer  # noqa: E402
from fastforward.nn import LinearQuantizer, QuantizerStub  # noqa: E402
from fastforward.quantization.affine.static import quantization_context  # noqa: E402
from fastforward.quantization.granularity import PerBlock, PerChannel, PerTensor  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from plain_runner import Skipped, isolation, run  # noqa: E402

F = ff.nn.functional
CASES = int(os.environ.get("FFQ_HOSTILE_CASES", "0")) or None
CPU_SECONDS = 25.0  # per test, when FFQ_HOSTILE_CASES is not set


def need_c():
    if not _ffqrt.available():
        raise Skipped("libffqrt not loaded (set FFQRT_LIBRARY to build/runtime/libffqrt.so)")


# --- hostile operands ------------------------------------------------------------------------

STORAGES = [torch.float32] * 3 + [torch.int8] * 3 + [torch.float64, torch.float16, torch.bfloat16, torch.int16,
                                                     torch.int32, torch.int64, torch.uint8]


def scale_of(rng):
    k = rng.random()
    if k < 0.05:
        return rng.choice([1e-30, 1e-12, 1.4e-45, 3e-39])
    if k < 0.09:
        return rng.choice([1e20, 3e30, 1e38])
    if k < 0.11:
        return -rng.uniform(0.01, 0.1)
    if k < 0.12:
        return rng.choice([0.0, float("nan"), float("inf")])
    return rng.uniform(0.002, 0.1)


def offset_of(rng, bits):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    k = rng.random()
    if k < 0.2:
        return float(rng.choice([lo, hi, lo - 1, hi + 1, 0.5, -0.5, 300]))
    return None if k < 0.3 else float(rng.randint(-40, 40))


def codes(shape, bits, storage):
    raw = torch.randint(-(2 ** (bits - 1)), 2 ** (bits - 1), shape)
    if storage == torch.uint8:
        raw = raw.clamp_min(0)
    return raw.to(storage)


def activation(shape, rng, bits=None):
    """A per-tensor QuantizedTensor with arbitrary parameters and storage."""
    bits = bits or rng.choice([8] * 8 + [4, 16])
    storage = rng.choice(STORAGES)
    if bits > 8 and storage in (torch.int8, torch.uint8):
        storage = torch.int16
    raw = codes(shape, bits, storage)
    if raw.is_floating_point() and rng.random() < 0.1:
        raw.requires_grad_(True)
    dq = rng.choice([torch.float16, torch.bfloat16, torch.float64]) if rng.random() < 0.08 else None
    offset = offset_of(rng, bits)
    context = quantization_context(torch.tensor(scale_of(rng)), None if offset is None else torch.tensor(offset),
                                   PerTensor(), bits, storage, dq)
    return QuantizedTensor(raw, context)


def weight(shape, rng, axis=0):
    """A weight per tensor, per channel (mostly along ``axis``) or per block."""
    bits = rng.choice([8] * 8 + [4, 16])
    storage = rng.choice([torch.float32, torch.int8, torch.int8, torch.float64])
    if bits > 8 and storage == torch.int8:
        storage = torch.int16
    raw = codes(shape, bits, storage)
    symmetric = rng.random() < 0.85
    k = rng.random()
    if k < 0.6:
        ax = axis if rng.random() < 0.8 else rng.randrange(len(shape))
        n = shape[ax]
        scale = torch.tensor([scale_of(rng) if rng.random() < 0.1 else rng.uniform(0.001, 0.02) for _ in range(n)])
        offset = None if symmetric else torch.tensor([float(rng.randint(-5, 5)) for _ in range(n)])
        granularity = PerChannel(ax)
    elif k < 0.7 and shape[-1] % 2 == 0 and shape[-1] > 0:
        granularity = PerBlock(len(shape) - 1, 2, per_channel_dims=0)
        scale, offset = torch.rand(shape[0] * (shape[-1] // 2)) * 0.02 + 0.001, None
    else:
        granularity = PerTensor()
        scale = torch.tensor(scale_of(rng) if rng.random() < 0.2 else rng.uniform(0.001, 0.02))
        offset = None if symmetric else torch.tensor(float(rng.randint(-5, 5)))
    return QuantizedTensor(raw, quantization_context(scale, offset, granularity, bits, storage))


def view_of(qt, rng):
    """The same values behind another memory layout."""
    raw = qt.raw_data
    kind = rng.choice(["plain"] * 3 + ["offset", "transpose", "stride", "expand", "channels_last", "flip", "stride0"])
    if kind == "offset" and raw.numel():
        o = rng.randint(1, 7)
        big = torch.zeros(raw.numel() + o, dtype=raw.dtype)
        big[o:] = raw.detach().reshape(-1)
        raw = big[o:].view(raw.shape)
    elif kind == "transpose" and raw.dim() >= 2:
        raw = raw.transpose(-1, -2).contiguous().transpose(-1, -2)
    elif kind == "stride" and raw.dim() >= 1:
        big = torch.zeros(raw.shape[:-1] + (raw.shape[-1] * 3,), dtype=raw.dtype)
        big[..., ::3] = raw.detach()
        raw = big[..., ::3]
    elif kind == "expand" and raw.dim() >= 1 and raw.shape[0] > 0:
        raw = raw[:1].expand(raw.shape)
    elif kind == "stride0" and raw.dim() >= 2:
        raw = raw[..., :1].expand(raw.shape)
    elif kind == "channels_last" and raw.dim() == 4:
        raw = raw.contiguous(memory_format=torch.channels_last)
    elif kind == "flip" and raw.dim() >= 1:
        raw = raw.flip(-1)
    return QuantizedTensor(raw, qt.quantization_context)


def operand(shape, rng):
    return view_of(activation(shape, rng), rng)


def shape_of(rng, ndim=None, small=False):
    ndim = rng.choice([1, 2, 2, 3, 4, 5]) if ndim is None else ndim
    sizes = [0, 1, 2, 3] if small else [0, 1, 1, 2, 3, 5, 7, 16, 17]
    return tuple(rng.choice(sizes) for _ in range(ndim))


def output_quantizer(rng, ref):
    """None, a stub, or a LinearQuantizer of 4 to 16 bits over a range around ``ref``."""
    k = rng.random()
    if k < 0.3:
        return None
    if k < 0.35:
        return QuantizerStub()
    bits = 8 if rng.random() < 0.8 else rng.choice([4, 7, 16])
    q = LinearQuantizer(bits, symmetric=rng.random() < 0.3,
                        quantized_dtype=rng.choice([None, None, torch.int8, torch.float32]) if bits <= 8 else None)
    lo, hi = -1.0, 1.0
    if isinstance(ref, torch.Tensor) and ref.is_floating_point() and ref.numel():
        finite = ref.detach().float()
        finite = finite[torch.isfinite(finite)]
        if finite.numel():
            lo, hi = float(finite.min()), float(finite.max())
    m = rng.random()
    if m < 0.05:
        lo, hi = lo * 1e-9, hi * 1e-9
    elif m < 0.1:
        lo, hi = -1e30, 1e30
    q.quantization_range = (min(lo, -1e-3), max(hi, 1e-3))
    return q


# --- calls -----------------------------------------------------------------------------------

UNARY = ["relu", "gelu", "sigmoid", "silu", "negative", "positive", "exp", "sin", "cos", "rsqrt", "tanh", "leaky_relu",
         "hardtanh", "relu6", "elu", "hardswish", "hardsigmoid", "mish", "softplus", "erf", "sqrt"]
UNARY_OPTIONS = {
    "leaky_relu": ("negative_slope", [0.01, -1.0, 0.0, 1e30]), "hardtanh": ("min_val", [-1.0, 1.0, 2.0]),
    "elu": ("alpha", [1.0, 0.0, -2.0]), "softplus": ("beta", [1.0, 0.5, 100.0]),
    "gelu": ("approximate", ["none", "tanh", "bogus"]),
}


def kw(q):
    return dict(output_quantizer=q, strict_quantization=False)


def call_of(op, rng):
    """(description, fn(output quantizer) -> result) for ``op``."""
    if op == "linear":
        k = rng.choice([0, 1, 3, 4, 5, 17, 64, 65, 255, 4097, 65536 if rng.random() < 0.05 else 8,
                        65537 if rng.random() < 0.05 else 9])
        x = operand(shape_of(rng, rng.choice([1, 2, 3]), small=True) + (k,), rng)
        n = rng.choice([1, 2, 3, 17, 33])
        w = view_of(weight((n, k if rng.random() < 0.95 else k + 1), rng), rng)
        bias = rng.choice([None, None, torch.randn(n), torch.randn(n + 1), torch.randn(1), torch.randn(1, n),
                           torch.randn(n, dtype=torch.float64), activation((n,), rng), torch.randn(n).half()])
        return "linear %s %s" % (tuple(x.shape), tuple(w.shape)), lambda q: F.linear(x, w, bias, **kw(q))
    if op == "addmm":
        k, n, m = rng.choice([1, 3, 8, 17]), rng.choice([1, 5, 16]), rng.choice([0, 1, 4])
        x, w = operand((m, k), rng), view_of(weight((k, n), rng, axis=1), rng)
        bias = rng.choice([torch.randn(n), torch.randn(max(m, 1), n), torch.randn(1), activation((n,), rng)])
        beta, alpha = rng.choice([1, 1, 0.5, 0]), rng.choice([1, 1, 2.0])
        return "addmm %s %s beta %s alpha %s" % ((m, k), (k, n), beta, alpha), \
            lambda q: F.addmm(bias, x, w, beta=beta, alpha=alpha, **kw(q))
    if op in ("conv1d", "conv2d"):
        dims = 1 if op == "conv1d" else 2
        groups = rng.choice([1, 1, 2, 3])
        c_in, c_out = groups * rng.choice([1, 2, 3]), groups * rng.choice([1, 2, 3])
        size = tuple(rng.choice([0, 1, 2, 5, 9]) for _ in range(dims))
        kernel = tuple(rng.choice([1, 2, 3, 5]) for _ in range(dims))
        x = operand(((rng.choice([0, 1, 2, 3]),) if rng.random() < 0.9 else ()) + (c_in,) + size, rng)
        w = view_of(weight((c_out, c_in // groups if rng.random() < 0.95 else c_in) + kernel, rng), rng)
        bias = rng.choice([None, torch.randn(c_out), torch.randn(c_out + 1)])
        stride = rng.choice([1, 2, 3, 0])
        padding = rng.choice([0, 1, 2, "same", "valid", -1])
        dilation = rng.choice([1, 1, 2, 3])
        fn = getattr(F, op)
        return "%s %s %s stride %s padding %s dilation %s groups %d" % (
            op, tuple(x.shape), tuple(w.shape), stride, padding, dilation, groups), \
            lambda q: fn(x, w, bias, stride, padding, dilation, groups, **kw(q))
    if op in ("matmul", "mm", "bmm"):
        if op == "mm":
            a = (rng.choice([0, 1, 3]), rng.choice([0, 1, 4, 33]))
            b = (a[1], rng.choice([1, 2, 7]))
        elif op == "bmm":
            batch = rng.choice([0, 1, 3])
            a = (batch, rng.choice([1, 3]), rng.choice([1, 5]))
            b = (batch, a[2], rng.choice([1, 4]))
        else:
            a = shape_of(rng, rng.choice([1, 2, 3, 4, 5]), small=True)
            if rng.random() < 0.05:
                a = a[:-1] + (rng.choice([32768, 32769]),)
            b = shape_of(rng, rng.choice([1, 2, 3]), small=True)
            b = b[:-2] + (a[-1],) + b[-1:] if len(b) >= 2 else (a[-1],)
        if rng.random() < 0.05:
            b = tuple(d + 1 for d in b)
        x = operand(a, rng)
        y = operand(b, rng) if rng.random() < 0.9 else torch.randn(b)
        fn = getattr(F, op)
        return "%s %s %s" % (op, a, b), lambda q: fn(x, y, **kw(q))
    if op in ("add", "mul"):
        s = shape_of(rng)
        other = rng.choice([s, s[-1:], (1,), (), s[:1] + (1,) * (len(s) - 1), (2,) + s])
        x = operand(s, rng)
        k = rng.random()
        y = operand(other, rng) if k < 0.6 else rng.choice([0.5, -3, 0, 1e30, float("nan"), 2]) if k < 0.8 \
            else torch.randn(other)
        if rng.random() < 0.3:
            x, y = y, x
        fn = getattr(F, op)
        return "%s %s %s" % (op, getattr(x, "shape", x), getattr(y, "shape", y)), lambda q: fn(x, y, **kw(q))
    if op in UNARY:
        x = operand(shape_of(rng), rng)
        options = {}
        if op in UNARY_OPTIONS:
            name, values = UNARY_OPTIONS[op]
            options[name] = rng.choice(values)
        fn = getattr(F, op)
        return "%s %s %s" % (op, tuple(x.shape), options), lambda q: fn(x, **options, **kw(q))
    if op == "pow":
        x, e = operand(shape_of(rng), rng), rng.choice([2, 3, 0.5, -1, 0, 2.0, -0.5, 1e10])
        return "pow %s %s" % (tuple(x.shape), e), lambda q: F.pow(x, e, **kw(q))
    if op == "clamp":
        x = operand(shape_of(rng), rng)
        lo, hi = rng.choice([None, -1.0, 0, 1.0, float("nan")]), rng.choice([None, 1.0, 0.5, -2.0])
        return "clamp %s %s %s" % (tuple(x.shape), lo, hi), lambda q: F.clamp(x, lo, hi, **kw(q))
    if op == "dropout":
        x = operand(shape_of(rng), rng)
        training = rng.random() < 0.3
        p = rng.choice([0.0, 1.0]) if training else rng.choice([0.0, 0.5, 1.0])
        return "dropout %s p %s training %s" % (tuple(x.shape), p, training), \
            lambda q: F.dropout(x, p, training, **kw(q))
    if op == "embedding":
        rows, dim = rng.choice([(1, 1), (7, 3), (50, 9), (0, 3), (5, 0)])
        table = view_of(weight((rows, dim), rng), rng)
        idx = torch.randint(-1 if rng.random() < 0.1 else 0, max(rows, 1) + (rng.random() < 0.1),
                            rng.choice([(0,), (4,), (2, 3), ()]))
        if rng.random() < 0.2:
            idx = idx.to(rng.choice([torch.int32, torch.int16, torch.uint8, torch.float32]))
        pad = rng.choice([None, None, 0, -1, 100])
        return "embedding %s %s padding_idx %s" % ((rows, dim), tuple(idx.shape), pad), \
            lambda q: F.embedding(idx, table, pad, **kw(q))
    if op == "layer_norm":
        s = shape_of(rng) or (3,)
        x = operand(s, rng)
        ns = rng.choice([s[-1:], s[-2:], (s[-1] + 1,)])
        w = rng.choice([None, torch.randn(ns), view_of(weight(ns, rng), rng)])
        b = rng.choice([None, torch.randn(ns), activation(ns, rng)])
        eps = rng.choice([1e-5, 0.0, 1e30, -1.0])
        return "layer_norm %s %s eps %s" % (s, ns, eps), lambda q: F.layer_norm(x, ns, w, b, eps, **kw(q))
    if op == "softmax":
        s = shape_of(rng) or (3,)
        x = operand(s, rng)
        dim, dtype = rng.choice([-1, -1, 0, len(s) - 1, len(s)]), rng.choice([None, None, torch.float64])
        return "softmax %s dim %s dtype %s" % (s, dim, dtype), lambda q: F.softmax(x, dim, dtype, **kw(q))
    if op == "cat":
        s = shape_of(rng, rng.choice([1, 2, 3]))
        dim = rng.choice([-1, 0, len(s) - 1, len(s)])
        parts = []
        for _ in range(rng.choice([1, 2, 3])):
            size = list(s)
            if rng.random() < 0.5:
                size[dim if -len(s) <= dim < len(s) else -1] = rng.choice([0, 1, 2])
            parts.append(operand(tuple(size), rng) if rng.random() < 0.9 else torch.randn(size))
        return "cat %s dim %s" % ([tuple(t.shape) for t in parts], dim), lambda q: F.cat(parts, dim, **kw(q))
    if op == "max_pool2d":
        s = rng.choice([(1, 2, 5, 5), (2, 3, 1, 1), (0, 1, 4, 4), (3, 7, 9), (1, 1, 0, 4), (2, 4, 8, 6)])
        x = operand(s, rng)
        args = (rng.choice([1, 2, 3, (2, 3), 0]), rng.choice([None, 1, 2, (1, 2), 0]), rng.choice([0, 1, 2]),
                rng.choice([1, 2, 3]), rng.random() < 0.3)
        return "max_pool2d %s %s" % (s, args), lambda q: F.max_pool2d(x, *args, **kw(q))
    if op == "batch_norm":
        # torch's functional (no output quantizer of its own: the one given comes after it)
        s = rng.choice([(2, 3), (1, 4, 5), (2, 3, 4, 4), (0, 3, 2, 2), (1, 1, 1, 1), (2, 5, 1, 3, 2), (3,), (2, 17, 7, 9)])
        x = operand(s, rng)
        c = s[1] if len(s) > 1 else s[0]
        mean = rng.choice([torch.randn(c)] * 4 + [torch.randn(c + 1), torch.randn(c).double(), None])
        var = rng.choice([torch.rand(c) + 0.01] * 4 + [torch.randn(c), torch.rand(c).half(), None])
        w = rng.choice([None, torch.randn(c), torch.randn(c), torch.randn(c).requires_grad_(), torch.randn(c + 2),
                        view_of(weight((c,), rng), rng)])
        b = rng.choice([None, torch.randn(c), torch.randn(c), activation((c,), rng)])
        training = rng.random() < 0.15
        eps = rng.choice([1e-5, 1e-5, 0.0, 1e30, -1.0, 0.5])

        def batch_norm(q):
            # (statistics copied: a training call updates them in place)
            fresh = [t.clone() if isinstance(t, torch.Tensor) and training else t for t in (mean, var)]
            y = torch.nn.functional.batch_norm(x, fresh[0], fresh[1], w, b, training, 0.1, eps)
            return y if q is None else q(y)

        return "batch_norm %s training %s eps %s" % (s, training, eps), batch_norm
    raise KeyError(op)


def torch_call_of(rng):
    """A torch function or operator on QuantizedTensors (``__torch_function__``)."""
    x, y = operand((3, 4), rng), operand((3, 4), rng)
    which = rng.choice(["linear", "conv2d", "matmul", "add", "mul", "relu", "softmax", "cat", "transposed mm"])
    if which == "linear":
        w = view_of(weight((5, 4), rng), rng)
        return "torch linear", lambda: torch.nn.functional.linear(x, w)
    if which == "conv2d":
        xc, wc = operand((2, 2, 5, 5), rng), view_of(weight((3, 2, 3, 3), rng), rng)
        return "torch conv2d", lambda: torch.nn.functional.conv2d(xc, wc, None, 1, 1)
    if which == "matmul":
        return "torch matmul", lambda: torch.matmul(x, y.t())
    if which == "transposed mm":
        z = operand((5, 4), rng)
        return "torch mm", lambda: torch.mm(x, z.t())
    if which in ("add", "mul"):
        other = rng.choice([y, 2.0, torch.randn(4), operand((1,), rng)])
        return "x %s y" % which, (lambda: x + other) if which == "add" else (lambda: x * other)
    if which == "softmax":
        return "softmax method", lambda: x.softmax(-1)
    if which == "cat":
        return "torch cat", lambda: torch.cat([x, y])
    return "torch relu", lambda: torch.nn.functional.relu(x)


def shape_call_of(rng):
    """A shape or element-picking op, then maybe a quantizer."""
    x = operand((2, 3, 4), rng)
    reshape, view, dim = rng.choice([(6, 4), (-1,), (4, 6), (5, 5)]), rng.choice([(6, 4), (24,), (4, 7)]), rng.choice([0, 3, 5])
    ops = {
        "flatten": lambda: x.flatten(1), "reshape": lambda: x.reshape(reshape), "view": lambda: x.view(view),
        "unsqueeze": lambda: x.unsqueeze(dim), "permute": lambda: x.permute(2, 0, 1), "t": lambda: x[0].t(),
        "index": lambda: x[1, ::2, None], "index tensor": lambda: x[torch.tensor([1, 0, 1])],
        "expand": lambda: x[:, :1].expand(2, 5, 4), "narrow": lambda: x.narrow(2, 1, 2), "flip": lambda: x.flip(0, 2),
        "unbind": lambda: x.unbind(1)[2], "repeat_kv": lambda: x[:, :, None].expand(2, 3, 2, 4).reshape(2, 6, 4),
    }
    name = rng.choice(sorted(ops))
    return "shape op %s" % name, ops[name]


# --- comparison ------------------------------------------------------------------------------


def mismatch(got, want):
    """None when the integer result ``got`` is the simulated ``want``, else why not."""
    if isinstance(want, (list, tuple)):
        if type(got) is not type(want) or len(got) != len(want):
            return "sequence differs"
        return next((m for m in map(mismatch, got, want) if m), None)
    if not isinstance(want, torch.Tensor):
        return None if type(got) is type(want) else "type %s vs %s" % (type(got).__name__, type(want).__name__)
    if type(got) is not type(want):
        return "type %s vs %s" % (type(got).__name__, type(want).__name__)
    if got.shape != want.shape or got.dtype != want.dtype:
        return "%s %s vs %s %s" % (tuple(got.shape), got.dtype, tuple(want.shape), want.dtype)
    if got.requires_grad != want.requires_grad:
        return "requires_grad %s vs %s" % (got.requires_grad, want.requires_grad)
    if got.numel() > 1 and any(a != b for a, b, n in zip(got.stride(), want.stride(), got.shape) if n != 1):
        return "strides %s vs %s" % (got.stride(), want.stride())
    if isinstance(want, QuantizedTensor):
        gp, wp = got.quantization_context.quantization_params, want.quantization_context.quantization_params
        if not torch.allclose(torch.as_tensor(gp.scale).float(), torch.as_tensor(wp.scale).float(), 0, 0, True):
            return "scales differ"
        g, w = got.raw_data.detach().double(), want.raw_data.detach().double()
        if not torch.equal(torch.isnan(g), torch.isnan(w)):
            return "NaN codes differ"
        diff = (g - w)[~torch.isnan(w)].abs()
        if diff.numel() and float(diff.max()) > 1:
            return "codes %s apart" % float(diff.max())
        return None
    g, w = got.detach().double(), want.detach().double()
    if not torch.equal(torch.isnan(g), torch.isnan(w)) or not torch.equal(torch.isinf(g), torch.isinf(w)):
        return "NaN or infinities differ"
    finite = torch.isfinite(w)
    if not torch.equal(g[~finite & ~torch.isnan(w)], w[~finite & ~torch.isnan(w)]):
        return "infinities differ"
    if finite.any():
        err = float((g - w)[finite].abs().max())
        tol = 1e-3 * float(w[finite].abs().max()) + 1e-6
        if err > tol:
            return "values %g apart (tolerance %g)" % (err, tol)
    return None


def outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - the simulation's exception, whichever it is
        return None, e


def compare(desc, run, failures, mode):
    """Run ``run(integer)`` on both paths under ``mode``; record a failure."""
    def under(integer):
        with _integer.integer_execution(integer):
            if mode == "no_grad":
                with torch.no_grad():
                    return outcome(run)
            if mode == "inference_mode":
                with torch.inference_mode():
                    return outcome(run)
            return outcome(run)

    want, want_error = under(False)
    got, got_error = under(True)
    if want_error is not None or got_error is not None:
        if type(want_error) is not type(got_error):
            failures.append("%s [%s]: integer %r, simulated %r" % (desc, mode, got_error, want_error))
        return
    why = mismatch(got, want)
    if why:
        failures.append("%s [%s]: %s" % (desc, mode, why))


def randomized(seed, pick, default_cases):
    need_c()
    rng = random.Random(seed)
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    failures, done = [], 0
    start = time.process_time()
    try:
        for i in range(CASES or default_cases):
            if CASES is None and time.process_time() - start > CPU_SECONDS:
                break
            if i % 25 == 0:
                torch.set_num_threads(rng.choice([1, 2, 3]))
            desc, fn = pick(rng)
            mode = rng.choice(["no_grad", "no_grad", "inference_mode", "autograd"])
            compare("#%d %s" % (i, desc), fn, failures, mode)
            done += 1
    finally:
        torch.set_num_threads(threads)
    assert not failures, "%d of %d calls differ from the simulation (seed %d):\n  %s" % (
        len(failures), done, seed, "\n  ".join(failures[:20]))
    assert done >= min(40, CASES or 40), done


def test_every_integer_op_matches_the_simulation():
    ops = list(_integer.OPS)

    def pick(rng):
        op = rng.choice(ops)
        desc, fn = call_of(op, rng)
        ref, _ = outcome(lambda: _simulated_no_grad(lambda: fn(None)))
        q = output_quantizer(rng, ref)
        return desc, lambda: fn(copy.deepcopy(q))

    randomized(101, pick, 400)


def _simulated_no_grad(fn):
    with torch.no_grad(), _integer.integer_execution(False):
        return fn()


def test_torch_calls_and_shape_ops_match_the_simulation():
    def pick(rng):
        if rng.random() < 0.5:
            return torch_call_of(rng)
        desc, fn = shape_call_of(rng)
        q = output_quantizer(rng, None) if rng.random() < 0.5 else None
        if q is None or isinstance(q, QuantizerStub):
            return desc, fn
        return desc + " then a quantizer", lambda: q(fn())

    randomized(102, pick, 300)


def test_layer_plans_take_hostile_inputs_as_the_simulation():
    def pick(rng):
        conv = rng.random() < 0.5
        if conv:
            c_in, c_out = rng.choice([1, 3]), rng.choice([2, 4])
            module = torch.nn.Conv2d(c_in, c_out, rng.choice([1, 3]), padding=rng.choice([0, 1]), stride=rng.choice([1, 2]))
            shape = (rng.choice([0, 1, 2]), c_in, rng.choice([1, 4, 7]), rng.choice([1, 5]))
        else:
            c_in, c_out = rng.choice([1, 3, 16]), rng.choice([1, 5])
            module = torch.nn.Linear(c_in, c_out, bias=rng.random() < 0.7)
            shape = ((2,) if rng.random() < 0.3 else ()) + (rng.choice([0, 1, 3]), c_in)
        layer = ff.quantize_model(torch.nn.Sequential(module))[0]
        layer.input_quantizer = LinearQuantizer(8, symmetric=False)
        layer.input_quantizer.quantization_range = (-2.0, 2.0)
        wq = LinearQuantizer(8, symmetric=True, granularity=PerChannel(0) if rng.random() < 0.7 else None)
        wq.quantization_range = (-0.5, 0.5) if wq.per_tensor else (-torch.ones(c_out) * 0.5, torch.ones(c_out) * 0.5)
        layer.weight_quantizer = wq
        if rng.random() < 0.5:
            layer.output_quantizer = LinearQuantizer(8, symmetric=False)
            layer.output_quantizer.quantization_range = (-1.5, 1.5)
        x = torch.randn(shape) * 1.5
        kind = rng.choice(["plain", "float64", "float16", "transposed", "channels_last", "requires_grad", "quantized",
                           "integers"])
        if kind == "float64":
            x = x.double()
        elif kind == "float16":
            x = x.half()
        elif kind == "transposed" and x.dim() >= 2:
            x = x.transpose(0, -1).contiguous().transpose(0, -1)
        elif kind == "channels_last" and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        elif kind == "requires_grad":
            x.requires_grad_(True)
        elif kind == "quantized":
            x = operand(shape, rng)
        elif kind == "integers":
            x = torch.randint(-3, 3, shape)

        def call():
            layer(x)  # (the first call makes the plan, the second runs it)
            return layer(x)

        return "%s %s %s" % (type(layer).__name__, shape, kind), call

    randomized(103, pick, 200)


# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals(), lambda: "libffqrt: %s (%s)" % (_ffqrt.library_path(), _ffqrt.isa())))

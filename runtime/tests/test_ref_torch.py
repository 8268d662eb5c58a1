"""The libffqrt reference kernels (loaded through ctypes) against plain torch float math.

Usage: python3 test_ref_torch.py path/to/libffqrt.so
Exits 77 (meson's "skipped") with a message when torch cannot be imported.
Integer results must match exactly; float results too where torch performs the same
IEEE float32 operations (division, multiply, add). The dynamic linear layer is compared
with the unquantized float layer, with the tolerance stated there.
"""
import ctypes as C
import sys
import warnings

try:
    import torch
except ImportError as exc:  # pragma: no cover - depends on the machine
    print(f"SKIP: torch is not importable ({exc}); install torch==2.13.0 to run this test")
    sys.exit(77)

S8, U8, S4, U4 = 0, 1, 2, 3
QRANGE = {S8: (-128, 127), U8: (0, 255), S4: (-8, 7), U4: (0, 15)}
SYM_ZP = {S8: 0, U8: 128, S4: 0, U4: 8}


class Grid(C.Structure):
    _fields_ = [(n, C.c_size_t) for n in ("outer", "mid", "inner", "tile_outer", "tile_mid", "tile_inner")]


class QParam(C.Structure):
    _fields_ = [("scale", C.c_float), ("zero_point", C.c_int32), ("dtype", C.c_int32)]


class ConvShape(C.Structure):
    _fields_ = [(n, C.c_size_t) for n in (
        "n", "c_in", "h", "w", "c_out", "kh", "kw", "stride_h", "stride_w",
        "pad_h", "pad_w", "dil_h", "dil_w", "groups", "layout")]


lib = C.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libffqrt.so")
P = C.c_void_p
for name, args in {
    "ffqrt_quantize_ref": [P, P, C.POINTER(Grid), P, P, C.c_int],
    "ffqrt_dequantize_ref": [P, P, C.POINTER(Grid), P, P, C.c_int],
    "ffqrt_fake_quantize_ref": [P, P, C.POINTER(Grid), P, P, C.c_int],
    "ffqrt_minmax_ref": [P, P, P, C.c_size_t],
    "ffqrt_minmax_channel_ref": [P, P, P, C.c_size_t, C.c_size_t, C.c_size_t],
    "ffqrt_linear_ref": [P, P, C.c_int, P, P, P, P, P, C.c_size_t, C.c_size_t, C.c_size_t],
    "ffqrt_linear_dynamic_ref": [P, P, P, P, P, C.c_size_t, C.c_size_t, C.c_size_t],
    "ffqrt_conv2d_ref": [P, P, C.c_int, P, P, P, P, P, C.POINTER(ConvShape)],
    "ffqrt_add_ref": [P, P, C.c_int, P, P, P, P, C.c_size_t],
    "ffqrt_mul_ref": [P, P, C.c_int, P, P, P, P, C.c_size_t],
}.items():
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = C.c_int

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def ptr(t):
    return P(t.data_ptr()) if t is not None else None


def bits_equal(a, b):
    return a.shape == b.shape and torch.equal(a.contiguous().view(torch.int32), b.contiguous().view(torch.int32))


# ---- quantize family: q = clamp(round_half_even(v + zp), qmin, qmax), v = fl(x / s) ----
# The rounding is exact: v + zp is formed in float64, where it is exact (in float32 the low
# bits of a small v beside a large zp would be lost; at an exact tie with an odd zp, rounding
# v first would give the other neighbour).

def exact_round(v, zp):
    """round_half_even(v + zp) of float32 v in real arithmetic, as float32."""
    return torch.round(v.double() + zp).to(torch.float32)


def torch_quant(x, s, zp, dtype):
    lo, hi = QRANGE[dtype]
    return torch.clamp(exact_round(x / s, zp.double()), lo, hi).to(torch.int32)


def unpack(q, dtype, n):
    if dtype in (S8, U8):
        return (q.view(torch.int8) if dtype == S8 else q).to(torch.int32)[:n]
    lo, hi = (q & 0xF).to(torch.int32), (q >> 4).to(torch.int32)
    v = torch.stack([lo, hi], 1).reshape(-1)[:n]
    return torch.where(v >= 8, v - 16, v) if dtype == S4 else v


def param_maps(shape3, tiles, s, zp):
    """Expand per-tile parameters to per-element tensors of shape3 (tile 0 = whole)."""
    o, m, i = shape3
    to, tm, ti = [t if t else d for t, d in zip(tiles, shape3)]
    go, gm, gi = -(-o // to), -(-m // tm), -(-i // ti)
    idx_o = torch.arange(o) // to
    idx_m = torch.arange(m) // tm
    idx_i = torch.arange(i) // ti
    idx = (idx_o[:, None, None] * gm + idx_m[None, :, None]) * gi + idx_i[None, None, :]
    return s[idx], zp[idx], go * gm * gi


def check_quant(shape3, tiles, dtype, sym, gen):
    n = shape3[0] * shape3[1] * shape3[2]
    o, m, i = shape3
    to, tm, ti = [t if t else max(d, 1) for t, d in zip(tiles, shape3)]
    np_ = (-(-o // to)) * (-(-m // tm)) * (-(-i // ti))
    s = torch.exp2(torch.randint(-6, 2, (np_,), generator=gen).float())
    lo, hi = QRANGE[dtype]
    zp = torch.full((np_,), SYM_ZP[dtype], dtype=torch.int32) if sym else \
        torch.randint(lo, hi + 1, (np_,), generator=gen, dtype=torch.int32)
    x = torch.randn(shape3, generator=gen) * 3
    ties = (torch.randint(-40, 40, shape3, generator=gen).float() + 0.5)
    x = torch.where(torch.rand(shape3, generator=gen) < 0.2, ties * s.max(), x).contiguous()
    sm, zm, _ = param_maps(shape3, tiles, s, zp)
    want = torch_quant(x, sm, zm, dtype).reshape(-1)
    q = torch.zeros((n + 1) // 2 if dtype in (S4, U4) else n, dtype=torch.uint8)
    g = Grid(*shape3, *tiles)
    zarg = None if sym else zp
    rc = lib.ffqrt_quantize_ref(ptr(q), ptr(x), g, ptr(s), ptr(zarg), dtype)
    got = unpack(q, dtype, n)
    what = f"quantize {shape3} tiles {tiles} dtype {dtype} sym {sym}"
    check(rc == 0 and torch.equal(got, want), what)
    deq = torch.empty(shape3)
    rc = lib.ffqrt_dequantize_ref(ptr(deq), ptr(q), g, ptr(s), ptr(zarg), dtype)
    want_deq = (want.reshape(shape3) - zm).to(torch.float32) * sm
    check(rc == 0 and bits_equal(deq, want_deq), "de" + what)
    fq = torch.empty(shape3)
    rc = lib.ffqrt_fake_quantize_ref(ptr(fq), ptr(x), g, ptr(s), ptr(zarg), dtype)
    check(rc == 0 and bits_equal(fq, want_deq), "fake-" + what)


def test_quant(gen):
    cases = [((1, 1, 1000), (0, 0, 0)), ((4, 6, 5), (0, 1, 0)), ((1, 8, 1), (0, 1, 0)),
             ((1, 7, 70), (0, 1, 32)), ((3, 9, 10), (1, 4, 3)), ((2, 5, 33), (1, 5, 8)),
             ((1, 1, 7), (0, 0, 0))]
    for shape3, tiles in cases:
        for dtype in (S8, U8, S4, U4):
            for sym in (0, 1):
                check_quant(shape3, tiles, dtype, sym, gen)
    # torch's own per-tensor quantizer agrees on non-tie data
    x = torch.randn(4096, generator=gen)
    s, zp = torch.tensor([0.037]), torch.tensor([3], dtype=torch.int32)
    q = torch.empty(4096, dtype=torch.uint8)
    lib.ffqrt_quantize_ref(ptr(q), ptr(x), Grid(1, 1, 4096, 0, 0, 0), ptr(s), ptr(zp), U8)
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    tq = torch.quantize_per_tensor(x, 0.037, 3, torch.quint8).int_repr()
    diff = (q.to(torch.int32) - tq.to(torch.int32)).abs()
    # torch may multiply by 1/scale instead of dividing: off by one only at near-ties
    check(diff.max().item() <= 1 and (diff != 0).float().mean().item() < 1e-3,
          "agrees with torch.quantize_per_tensor")


def test_minmax(gen):
    x = torch.randn(3, 10, 7, generator=gen)
    mn, mx = torch.empty(1), torch.empty(1)
    lib.ffqrt_minmax_ref(ptr(mn), ptr(mx), ptr(x), x.numel())
    tmn, tmx = torch.aminmax(x)
    check(mn.item() == tmn.item() and mx.item() == tmx.item(), "minmax")
    cmn, cmx = torch.empty(10), torch.empty(10)
    lib.ffqrt_minmax_channel_ref(ptr(cmn), ptr(cmx), ptr(x), 3, 10, 7)
    tmn, tmx = torch.aminmax(x.transpose(0, 1).reshape(10, -1), dim=1)
    check(torch.equal(cmn, tmn) and torch.equal(cmx, tmx), "minmax per channel")


# ---- linear / conv: integer accumulators exactly, then the float output stage ----

def out_stage(acc, sa, sw, bias, py, relu):
    v = acc.to(torch.float32) * (torch.tensor(sa, dtype=torch.float32) * sw)
    if bias is not None:
        v = v + bias
    if py is None:
        return v
    lo, hi = QRANGE[py.dtype]
    lo = max(lo, py.zero_point) if relu else lo
    q = torch.clamp(exact_round(v / torch.tensor(py.scale), float(py.zero_point)), lo, hi)
    return q.to(torch.int32)


def act_tensor(n, dtype, gen):
    t = torch.randint(0, 256, (n,), generator=gen, dtype=torch.int32).to(torch.uint8)
    vals = (t.view(torch.int8) if dtype == S8 else t).to(torch.int64)
    return t, vals


def test_linear(gen):
    for m, n, k in [(1, 16, 64), (5, 17, 33), (13, 40, 100)]:
        for adt in (S8, U8):
            a_raw, a = act_tensor(m * k, adt, gen)
            w = torch.randint(-128, 128, (n, k), generator=gen, dtype=torch.int8)
            sw = torch.exp2(-torch.randint(0, 10, (n,), generator=gen).float())
            bias = torch.randn(n, generator=gen)
            pa = QParam(0.02, -5 if adt == S8 else 130, adt)
            acc = ((a.reshape(m, k) - pa.zero_point).double() @ w.double().T).round().to(torch.int64)
            for py, relu in [(None, 0), (QParam(0.7, 3, S8), 0), (QParam(0.3, 100, U8), 1)]:
                y = torch.empty(m, n) if py is None else torch.empty(m, n, dtype=torch.uint8)
                rc = lib.ffqrt_linear_ref(ptr(y), C.byref(py) if py else None, relu, ptr(a_raw),
                                          C.byref(pa), ptr(w), ptr(sw), ptr(bias), m, n, k)
                want = out_stage(acc, pa.scale, sw, bias, py, relu)
                got = y if py is None else unpack(y.reshape(-1), py.dtype, m * n).reshape(m, n)
                ok = bits_equal(got, want) if py is None else torch.equal(got, want)
                check(rc == 0 and ok, f"linear {m}x{n}x{k} a{adt} out {py and py.dtype} relu {relu}")


def test_linear_dynamic(gen):
    # Versus the float layer x @ (w * sw).T + b. Tolerance: activations are quantized to
    # 7 bits, so |error| <= sum_k |w_kn| * s_a / 2 per output, required elementwise. On
    # average a step of s_a ~ 8 / 127 gives ~1.8 % relative noise on unit-variance inputs:
    # we require an RMS error below 3 % of the output's RMS.
    m, n, k = 8, 32, 256
    x = torch.randn(m, k, generator=gen)
    w = torch.randint(-127, 128, (n, k), generator=gen, dtype=torch.int8)
    sw = torch.full((n,), 0.01)
    bias = torch.randn(n, generator=gen)
    y = torch.empty(m, n)
    rc = lib.ffqrt_linear_dynamic_ref(ptr(y), ptr(x), ptr(w), ptr(sw), ptr(bias), m, n, k)
    wf = w.float() * sw[:, None]
    ref = x @ wf.T + bias
    sa = (x.max() - x.min()).item() / 127
    bound = (wf.abs().sum(1) * sa / 2 + 1e-4)[None, :]
    err = (y - ref).abs()
    check(rc == 0 and bool((err <= bound).all()), "linear_dynamic within the quantization bound")
    rel = (err.pow(2).mean().sqrt() / ref.pow(2).mean().sqrt()).item()
    check(rel < 0.03, f"linear_dynamic rms error {rel:.4f} < 3 %")


def test_conv(gen):
    F = torch.nn.functional
    for (n, ci, h, wd, co, kh, kw, st, pd, dl, gr) in [
            (1, 3, 8, 8, 8, 3, 3, 1, 1, 1, 1), (2, 4, 9, 7, 6, 3, 2, 2, 1, 1, 2),
            (1, 8, 10, 10, 8, 3, 3, 1, 2, 2, 8)]:
        for adt in (S8, U8):
            x_raw, xv = act_tensor(n * ci * h * wd, adt, gen)
            w = torch.randint(-128, 128, (co, ci // gr, kh, kw), generator=gen, dtype=torch.int8)
            sw = torch.exp2(-torch.randint(0, 8, (co,), generator=gen).float())
            bias = torch.randn(co, generator=gen)
            px = QParam(0.05, 7 if adt == S8 else 120, adt)
            shape = ConvShape(n, ci, h, wd, co, kh, kw, st, st, pd, pd, dl, dl, gr)
            xc = (xv.reshape(n, ci, h, wd) - px.zero_point).double()
            acc = F.conv2d(xc, w.double(), stride=st, padding=pd, dilation=dl, groups=gr)
            acc = acc.round().to(torch.int64)
            sw4, b4 = sw[None, :, None, None], bias[None, :, None, None]
            y = torch.empty(acc.shape)
            rc = lib.ffqrt_conv2d_ref(ptr(y), None, 0, ptr(x_raw), C.byref(px), ptr(w), ptr(sw),
                                      ptr(bias), C.byref(shape))
            check(rc == 0 and bits_equal(y, out_stage(acc, px.scale, sw4, b4, None, 0)),
                  f"conv2d f32 groups {gr} a{adt}")


def test_eltwise(gen):
    for op, fn in (("add", lib.ffqrt_add_ref), ("mul", lib.ffqrt_mul_ref)):
        for adt, bdt, ydt, relu in [(S8, U8, S8, 0), (U8, U8, U8, 1), (S8, S8, U8, 0)]:
            a_raw, a = act_tensor(1000, adt, gen)
            b_raw, b = act_tensor(1000, bdt, gen)
            pa, pb, py = QParam(0.1, 3, adt), QParam(0.05, 9, bdt), QParam(0.2, 11, ydt)
            fa = (a - pa.zero_point).to(torch.float32) * torch.tensor(pa.scale)
            fb = (b - pb.zero_point).to(torch.float32) * torch.tensor(pb.scale)
            v = fa + fb if op == "add" else fa * fb
            lo, hi = QRANGE[ydt]
            lo = max(lo, py.zero_point) if relu else lo
            want = torch.clamp(exact_round(v / torch.tensor(py.scale), float(py.zero_point)), lo, hi)
            y = torch.empty(1000, dtype=torch.uint8)
            rc = fn(ptr(y), C.byref(py), relu, ptr(a_raw), C.byref(pa), ptr(b_raw), C.byref(pb), 1000)
            check(rc == 0 and torch.equal(unpack(y, ydt, 1000), want.to(torch.int32)),
                  f"{op} a{adt} b{bdt} y{ydt} relu {relu}")


def main():
    gen = torch.Generator().manual_seed(1234)
    print(f"torch {torch.__version__}")
    for t in (test_quant, test_minmax, test_linear, test_linear_dynamic, test_conv, test_eltwise):
        t(gen)
    print(f"ref_torch: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""libffqrt kernel throughput next to torch and the machine's ceilings, in one run.

Our kernels are called through ctypes on libffqrt.so (a few microseconds per call), torch
on the same data: fp32 F.linear (MKL BLAS), torch.ao.quantization.quantize_dynamic's int8
Linear on the default quantized engine, quantize_per_tensor / dequantize. The two sides
are timed in alternating rounds and each keeps its best time, so a noisy neighbour hurts
both alike. The ceilings (int8 MAC loop, streaming copy) come from ffqrt_bench_kernels
--ceilings, run before, between and after, best kept. Everything uses 2 threads.
Prints a table and, last, the line
  kernels: linear_vs_torch_min=R1 linear_vnni_frac_m128=R2 qdq_vs_copy=R3
"""
import ctypes as C
import argparse
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def best_time(fn, min_total=1.0, min_runs=3, max_runs=200):
    fn()
    best, start, runs = float("inf"), time.perf_counter(), 0
    while runs < min_runs or (time.perf_counter() - start < min_total and runs < max_runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return best


def ceilings(path, res):
    out = subprocess.run([path, "--ceilings"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f[0] == "isa":
            res["isa"] = f[1]
        elif f[:2] == ["ceiling", "int8"]:
            res["int8_loop"] = f[2]
            res["int8_gops"] = max(res.get("int8_gops", 0.0), float(f[3]))
        elif f[:2] == ["ceiling", "copy"]:
            res["copy_gbs"] = max(res.get("copy_gbs", 0.0), float(f[3]))


def duel(ours, theirs, rounds=6, per_round=0.25):
    """Best times of two callables timed in alternating rounds."""
    a = b = float("inf")
    for _ in range(rounds):
        a = min(a, best_time(ours, per_round, 2))
        b = min(b, best_time(theirs, per_round, 2))
    return a, b


class Ours:
    def __init__(self, so):
        lib = C.CDLL(so)
        P, Z = C.c_void_p, C.c_size_t
        lib.ffqrt_ctx_new.restype = P
        lib.ffqrt_ctx_new.argtypes = [C.c_int, C.c_int]
        lib.ffqrt_linear_pack_size.restype = Z
        lib.ffqrt_linear_pack_size.argtypes = [Z, Z]
        lib.ffqrt_linear_pack.argtypes = [P, P, P, Z, Z]
        lib.ffqrt_linear_dynamic.argtypes = [P, P, P, P, P, Z, P]
        lib.ffqrt_quantize.argtypes = [P, P, P, P, P, P, C.c_int]
        lib.ffqrt_dequantize.argtypes = [P, P, P, P, P, P, C.c_int]
        self.lib, self.ctx = lib, lib.ffqrt_ctx_new(0, 2)

    def linear(self, x, w_int8, w_scale, bias):
        m, k = x.shape
        n = w_int8.shape[0]
        packed = torch.empty(self.lib.ffqrt_linear_pack_size(n, k), dtype=torch.uint8)
        assert self.lib.ffqrt_linear_pack(packed.data_ptr(), w_int8.data_ptr(),
                                          w_scale.data_ptr(), n, k) == 0
        work, y = torch.empty(m * k, dtype=torch.uint8), torch.empty(m, n)
        args = (self.ctx, y.data_ptr(), x.data_ptr(), packed.data_ptr(), bias.data_ptr(), m,
                work.data_ptr())
        keep = (packed, work, y, x, w_int8, w_scale, bias)
        return lambda: keep and self.lib.ffqrt_linear_dynamic(*args)

    def qdq(self, x, q, scale, zp):
        grid = (C.c_size_t * 6)(1, 1, x.numel(), 0, 0, 0)
        s, z = C.c_float(scale), C.c_int32(zp)
        qa = (self.ctx, q.data_ptr(), x.data_ptr(), C.addressof(grid), C.addressof(s),
              C.addressof(z), 1)
        da = (self.ctx, x.data_ptr(), q.data_ptr(), C.addressof(grid), C.addressof(s),
              C.addressof(z), 1)
        keep = (grid, s, z, x, q)
        return (lambda: keep and self.lib.ffqrt_quantize(*qa),
                lambda: keep and self.lib.ffqrt_dequantize(*da))


def torch_linear(ours, m, k, n):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(m, k, generator=gen)
    lin = torch.nn.Linear(k, n)
    qlin = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear},
                                                  dtype=torch.qint8)
    w8 = torch.randint(-127, 128, (n, k), generator=gen, dtype=torch.int8)
    run = ours.linear(x, w8, torch.full((n,), 0.01), lin.bias.detach().clone())
    ops = 2.0 * m * n * k
    with torch.inference_mode():
        t_ours, t8 = duel(run, lambda: qlin(x))
        t32 = best_time(lambda: F.linear(x, lin.weight, lin.bias))
    return ops / t_ours / 1e9, ops / t8 / 1e9, ops / t32 / 1e9


def torch_qdq(ours, rows, cols):
    x = torch.randn(rows, cols)
    n = x.numel()
    q = torch.empty(n, dtype=torch.uint8)
    oq, od = ours.qdq(x.clone(), q, 0.02, 128)
    tq_ours, tq = duel(oq, lambda: torch.quantize_per_tensor(x, 0.02, 128, torch.quint8))
    tq8 = torch.quantize_per_tensor(x, 0.02, 128, torch.quint8)
    td_ours, td = duel(od, lambda: tq8.dequantize())
    gbs = lambda t: 5.0 * n / t / 1e9
    return (gbs(tq_ours), gbs(tq)), (gbs(td_ours), gbs(td))


def default_bench():
    for build in ("build", "build-rt"):
        p = os.path.join(ROOT, build, "bench", "ffqrt_bench_kernels")
        if os.path.exists(p):
            return p
    sys.exit("ffqrt_bench_kernels not found: build it first (see bench/kernels.sh)")


def default_so(bench):
    return os.path.join(os.path.dirname(os.path.dirname(bench)), "runtime", "libffqrt.so")


SHAPES = [(1, 4096, 4096), (16, 4096, 4096), (128, 4096, 4096), (512, 4096, 4096),
          (128, 768, 3072)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=None, help="path of ffqrt_bench_kernels")
    ap.add_argument("--lib", default=None, help="path of libffqrt.so (default: next to it)")
    ap.add_argument("--quick", action="store_true", help="fewer shapes")
    args = ap.parse_args()
    torch.set_num_threads(2)
    import warnings
    warnings.filterwarnings("ignore")
    bench = args.bench or default_bench()
    ours = Ours(args.lib or default_so(bench))
    c = {}
    ceilings(bench, c)
    engine = torch.backends.quantized.engine
    rows = []
    for i, (m, k, n) in enumerate(SHAPES[:3] if args.quick else SHAPES):
        rows.append(((m, k, n), torch_linear(ours, m, k, n)))
        if i == 1:
            ceilings(bench, c)
    (q_ours, q_t), (d_ours, d_t) = torch_qdq(ours, 4096, 4096)
    ceilings(bench, c)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, quantized engine "
          f"'{engine}'; libffqrt isa {c['isa']}, 2 threads")
    print(f"int8 ceiling ({c['int8_loop']} loop, 2 threads): {c['int8_gops']:.1f} GOPS; "
          f"streaming copy: {c['copy_gbs']:.1f} GB/s (read + write)")
    hdr = (f"{'kernel':<22}{'shape':<18}{'ours':>9}{'torch int8':>12}{'torch fp32':>12}"
           f"{'ceiling':>9}{'ours/torch':>11}{'of ceil':>9}")
    print(hdr)
    print("-" * len(hdr))
    ratios, fracs = [], []
    for (m, k, n), (o, t8, t32) in rows:
        r, f = o / t8, o / c["int8_gops"]
        ratios.append(r)
        if m >= 128:
            fracs.append(f)
        print(f"{'linear (GOPS)':<22}{f'{m}x{k}x{n}':<18}{o:>9.1f}{t8:>12.1f}{t32:>12.1f}"
              f"{c['int8_gops']:>9.1f}{r:>10.2f}x{100 * f:>8.1f}%")
    qfr = []
    for name, o, t in (("quantize (GB/s)", q_ours, q_t), ("dequantize (GB/s)", d_ours, d_t)):
        f = o / c["copy_gbs"]
        qfr.append(f)
        print(f"{name:<22}{'4096x4096':<18}{o:>9.1f}{t:>12.1f}{'-':>12}"
              f"{c['copy_gbs']:>9.1f}{o / t:>10.2f}x{100 * f:>8.1f}%")
    print("(linear: int8 ops = 2*M*N*K per end-to-end call, fp32 in -> fp32 out with bias; "
          "torch int8 = quantize_dynamic Linear; quantize/dequantize: GB/s at 5 bytes per "
          "element, torch column = quantize_per_tensor / dequantize)")
    r2 = min(fracs) if fracs else float("nan")
    print(f"kernels: linear_vs_torch_min={min(ratios):.2f} linear_vnni_frac_m128={r2:.2f} "
          f"qdq_vs_copy={min(qfr):.2f}")


if __name__ == "__main__":
    main()

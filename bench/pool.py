"""Max and average pooling: libffqrt (ffqrt_max_pool2d / ffqrt_avg_pool2d) against torch's
CPU kernels, on the pools of common CNNs.

    FFQRT_LIBRARY=build/runtime/libffqrt.so python3 bench/pool.py [--rounds N]

Shapes (batch 1 unless said): ResNet's stem pool (64 x 112 x 112, 3x3 stride 2 padding 1),
the same at 128 x 128 input (64 x 64 x 64), a batch of 8 at 56 x 56, DenseNet's transition
(2x2 stride 2), GoogLeNet's ceil_mode pool and Inception's 3x3 stride-1 average pool of
256 x 35 x 35. Rows:

* float32 NCHW: what the integer path pools in C (float inputs of the functional ops and
  of quantize_model's pool surrogates) against torch's NCHW kernel;
* float32 channels_last: torch's own kernel (the layout the integer path leaves to torch),
  for reference;
* int8 codes (max only; NCHW and channels_last): what the integer path pools for a
  quantized input, against torch's float pool of the same data in the same layout (the
  simulated path's pool, its dequantization not counted).

Rounds alternate ours / torch and report medians; outputs are checked equal (the kernels
are exact) before timing. Summary: ``pool: nchw_vs_torch_min=A nchw_vs_torch_median=B``
(ours over torch's time on the float32 NCHW rows) with the ISA libffqrt runs on.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "runtime", "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from fastforward import _ffqrt  # noqa: E402

CASES = [
    # (label, shape, op, kernel, stride, padding, ceil_mode)
    ("ResNet stem 64x112x112", (1, 64, 112, 112), "max", 3, 2, 1, False),
    ("ResNet-18 at 128 64x64x64", (1, 64, 64, 64), "max", 3, 2, 1, False),
    ("batch 8 64x56x56", (8, 64, 56, 56), "max", 3, 2, 1, False),
    ("GoogLeNet ceil 192x56x56", (1, 192, 56, 56), "max", 3, 2, 0, True),
    ("DenseNet transition 128x56x56", (1, 128, 56, 56), "avg", 2, 2, 0, False),
    ("Inception 256x35x35 3x3/1", (1, 256, 35, 35), "avg", 3, 1, 1, False),
]


def median_us(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def timed_pair(ours, theirs, rounds, reps):
    a, b = [], []
    for _ in range(rounds):
        a.append(median_us(ours, reps))
        b.append(median_us(theirs, reps))
    return statistics.median(a), statistics.median(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    if not _ffqrt.available():
        print("libffqrt not loaded: set FFQRT_LIBRARY=build/runtime/libffqrt.so")
        return 1
    cpu = sorted({f for f in open("/proc/cpuinfo").read().split() if f in ("avx2", "avx512_vnni", "avx_vnni")})
    print("pool benchmark: torch %s, %d threads, libffqrt ISA %s (CPU flags: %s)"
          % (torch.__version__, torch.get_num_threads(), _ffqrt.isa(), " ".join(cpu)))
    print("| case | layout | ours us | torch us | ours/torch speed |\n|---|---|---|---|---|")
    torch.manual_seed(0)
    nchw_ratios = []
    for label, shape, op, k, s, p, ceil in CASES:
        x = torch.randn(shape)
        codes = torch.randint(-128, 128, shape, dtype=torch.int8)
        rows = [("float32 NCHW", x, x), ("float32 channels_last", x.contiguous(memory_format=torch.channels_last), None)]
        if op == "max":
            rows += [("int8 NCHW", codes, codes.float()),
                     ("int8 channels_last", codes.contiguous(memory_format=torch.channels_last),
                      codes.float().contiguous(memory_format=torch.channels_last))]
        for layout, data, ref in rows:
            if op == "max":
                def torch_fn(t=(data if ref is None else ref)):
                    return F.max_pool2d(t, k, s, p, 1, ceil)

                def ours_fn(t=data):
                    return _ffqrt.max_pool2d(t, (k, k), (s, s), (p, p), (1, 1), ceil)
            else:
                def torch_fn(t=(data if ref is None else ref)):
                    return F.avg_pool2d(t, k, s, p, ceil)

                def ours_fn(t=data):
                    return _ffqrt.avg_pool2d(t, (k, k), (s, s), (p, p), ceil, True, None)
            if ref is None:  # torch's own layout: reference row
                us = median_us(torch_fn, args.reps * args.rounds)
                print("| %s | %s (torch only) | - | %.0f | - |" % (label, layout, us))
                continue
            if not torch.equal(ours_fn().float(), torch_fn()):
                raise SystemExit("pool: %s %s: ours differs from torch" % (label, layout))
            ours, theirs = timed_pair(ours_fn, torch_fn, args.rounds, args.reps)
            ratio = theirs / ours
            if layout == "float32 NCHW":
                nchw_ratios.append(ratio)
            print("| %s | %s | %.0f | %.0f | %.2fx |" % (label, layout, ours, theirs, ratio))
    print("\npool: nchw_vs_torch_min=%.2f nchw_vs_torch_median=%.2f (isa=%s, threads=%d)"
          % (min(nchw_ratios), statistics.median(nchw_ratios), _ffqrt.isa(), torch.get_num_threads()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

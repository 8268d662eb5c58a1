"""LinearQuantizer forward against a memory copy and against the same formula in torch ops.

    python3 bench/quantizer.py [--repeat N]        (FFQRT_LIBRARY=build/runtime/libffqrt.so)

A 4096x4096 float32 tensor, 8 bits, per tensor and per channel (dim 0), under
torch.no_grad(). Baselines, measured in the same run and interleaved with the quantizer:

* copy:  ``dst.copy_(x)`` into a preallocated tensor (pure memory bandwidth: 64 MB read,
  64 MB written); ``clone`` (which also allocates its output, as the quantizer must) is
  printed for reference;
* torch: the formula written plainly in torch ops,
  ``clamp(round(x / s - round(o)), qmin, qmax)`` with the parameters broadcast per channel;
* fallback (for reference): fastforward's own torch-ops path (in-place passes), which
  non-float32 data and non-zero offsets take.

Ratios are of medians: quantizer_vs_copy = t(copy) / t(quantizer) (the fraction of copy
bandwidth reached), quantizer_vs_torch = t(torch) / t(quantizer). The summary line reports
the worse granularity. The machine is shared: read ratios, not absolute times.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "runtime", "python"))

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward import _ffqrt  # noqa: E402
from fastforward.quantization.affine import _kernels  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()

    torch.manual_seed(0)
    n = args.size
    x = torch.randn(n, n)
    dst = torch.empty_like(x)
    print("torch %s, %d threads; libffqrt: %s; ISA: %s" % (
        torch.__version__, torch.get_num_threads(), _ffqrt.library_path(), _ffqrt.isa()))
    if not _ffqrt.available():
        print("runtime: libffqrt not found: set FFQRT_LIBRARY (the numbers below are torch ops)")

    worst_copy = worst_torch = float("inf")
    for name, gran in (("per-tensor", ff.PerTensor()), ("per-channel", ff.PerChannel(0))):
        q = ff.nn.LinearQuantizer(8, granularity=gran)
        if isinstance(gran, ff.PerTensor):
            q.quantization_range = (x.min(), x.max())
        else:
            q.quantization_range = (x.min(1).values, x.max(1).values)
        scale, offset = q.scale.detach(), q.offset.detach()
        tile = _kernels.tile_shape(x.shape, gran.tile_size(x.shape))
        shape = (-1, 1) if isinstance(gran, ff.PerChannel) else (1, 1)
        s_b, r_b = scale.reshape(shape), torch.round(offset).reshape(shape)

        def plain_torch():
            return torch.clamp(torch.round(x / s_b - r_b), -128, 127)

        with torch.no_grad():
            raw = q(x).raw_data
            same = torch.equal(raw, _kernels.quantize_torch(x, scale, offset, tile, 8))
            same = same and torch.equal(raw, plain_torch())
            times = {"quantizer": [], "copy": [], "clone": [], "torch": [], "fallback": []}
            for _ in range(args.repeat):
                times["quantizer"].append(timed(lambda: q(x)))
                times["copy"].append(timed(lambda: dst.copy_(x)))
                times["clone"].append(timed(lambda: x.clone()))
                times["torch"].append(timed(plain_torch))
                times["fallback"].append(timed(lambda: _kernels.quantize_torch(x, scale, offset, tile, 8)))
        med = {k: statistics.median(v) for k, v in times.items()}
        r_copy = med["copy"] / med["quantizer"]
        r_clone = med["clone"] / med["quantizer"]
        r_torch = med["torch"] / med["quantizer"]
        r_fallback = med["fallback"] / med["quantizer"]
        worst_copy, worst_torch = min(worst_copy, r_copy), min(worst_torch, r_torch)
        print("%-11s quantizer %6.1f ms  copy %6.1f ms  clone %6.1f ms  torch %6.1f ms  "
              "fallback %6.1f ms  vs_copy %.2f  vs_clone %.2f  vs_torch %.1f  vs_fallback %.1f  "
              "same bits %s" % (
                  name, 1e3 * med["quantizer"], 1e3 * med["copy"], 1e3 * med["clone"],
                  1e3 * med["torch"], 1e3 * med["fallback"], r_copy, r_clone, r_torch,
                  r_fallback, same))
    print("runtime: quantizer_vs_copy=%.2f quantizer_vs_torch=%.1f (isa=%s)" % (
        worst_copy, worst_torch, _ffqrt.isa()))


if __name__ == "__main__":
    main()

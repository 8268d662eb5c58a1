"""ONNX Runtime rows for the end-to-end benchmark: each model quantized with fastforward,
exported with fastforward.export (QuantizeLinear/DequantizeLinear), and run by ONNX Runtime
on the CPU, which fuses the QDQ pairs into its own int8 kernels; against float torch, in
one run on the same inputs.

Models (bench/e2e_models.py, shared with bench/e2e.py) and inputs are those of bench/e2e.py
(same shapes, seeds and input order): a transformer MLP stack (4 x 768->3072->768, GELU,
residuals, 128 tokens), a small BERT-style encoder (4 layers, d=256, 4 heads, FFN 1024, 128
tokens; torch modules) and a ResNet-18-shaped CNN (batch norm folded into the convolutions,
1 x 3 x 128 x 128). Quantization as there:
every Linear / Conv2d input through a static per-tensor 8-bit asymmetric LinearQuantizer
calibrated with min/max on separate data, weights symmetric per output channel (int8); the
rest stays float.

Rows: float torch; fastforward simulated (for reference); ONNX Runtime on the exported float
graph (quantization disabled); ONNX Runtime on the exported QDQ graph. Times are medians of
per-round times, rounds alternating between rows; ONNX Runtime gets as many threads as torch.

    FFQRT_LIBRARY=build/runtime/libffqrt.so python3 bench/export_ort.py [--quick] [--threads N]

Summary: ``export_ort: ort_qdq_vs_float=R ort_qdq_vs_ort_float=F sqnr_db=S`` with R the float
torch time over the ONNX Runtime QDQ time (worst model), F the same against ONNX Runtime's
float graph, and S the lowest SQNR of the QDQ model's output against float torch.
"""

import argparse
import copy
import math
import os
import statistics
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "runtime", "python"))

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward import _ffqrt, _integer  # noqa: E402
from fastforward.nn import LinearQuantizer  # noqa: E402
from fastforward.nn.quantized_layers import QuantizedConv2d, QuantizedLinear  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402

sys.path.insert(0, HERE)
from e2e_models import Encoder, MLPStack, ResNet18, build  # noqa: E402  (bench/e2e_models.py)

warnings.filterwarnings("ignore")


# --- fastforward model and its export -----------------------------------------------------------


def to_fastforward(model, calib):
    """The model as fastforward quantizes it (``quantize_model``: QuantizedLinear /
    QuantizedConv2d and the other layers with stub quantizers): each Linear / Conv2d input
    through a static per-tensor asymmetric 8-bit LinearQuantizer, weights symmetric per
    output channel, ranges from min/max over the calibration batches, which run on the
    simulated path."""
    ffm = copy.deepcopy(model)
    ff.quantize_model(ffm, extra_conversion=ff.surrogate_quantized_modules(ffm))
    for module in ffm.modules():
        if isinstance(module, (QuantizedLinear, QuantizedConv2d)):
            module.input_quantizer = LinearQuantizer(8, symmetric=False)
            module.weight_quantizer = LinearQuantizer(8, symmetric=True, allow_one_sided=False,
                                                      granularity=ff.PerChannel(0))
    with torch.no_grad(), ff.strict_quantization(False), _integer.integer_execution(False), \
            ff.estimate_ranges(ffm, ff.range_setting.running_minmax):
        for x in calib:
            ffm(x)
    return ffm


def ort_session(path, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def call(x):
        return torch.from_numpy(session.run(None, {name: x.numpy()})[0])

    return call


def sqnr(ref, out):
    ref, out = ref.double(), out.double()
    noise = float(((ref - out) ** 2).sum())
    return float("inf") if noise == 0 else 10 * math.log10(float((ref ** 2).sum()) / noise)


def bench_model(model, x, calib, rounds, reps, threads, tmp, tag):
    from fastforward.export import export

    ffm = to_fastforward(model, calib)

    def simulated(inp):
        with torch.no_grad(), ff.strict_quantization(False):
            out = ffm(inp)
        return out.dequantize() if isinstance(out, QuantizedTensor) else out

    def float_torch(inp):
        with torch.inference_mode():
            return model(inp)

    with ff.disable_quantization(ffm):
        export(ffm, (x,), tmp, tag + "-float", format="onnx_qdq")
    export(ffm, (x,), tmp, tag + "-qdq", format="onnx_qdq")
    rows = [
        ("float torch", float_torch),
        ("fastforward simulated", simulated),
        ("onnxruntime float (exported)", ort_session(os.path.join(tmp, tag + "-float.onnx"), threads)),
        ("onnxruntime QDQ int8 (exported)", ort_session(os.path.join(tmp, tag + "-qdq.onnx"), threads)),
    ]
    ref = float_torch(x)
    outputs = {label: fn(x) for label, fn in rows}
    times = {label: [] for label, _ in rows}
    for _ in range(rounds):
        for label, fn in rows:
            fn(x)  # warm
            t0 = time.perf_counter()
            for _ in range(reps):
                fn(x)
            times[label].append((time.perf_counter() - t0) / reps)
    return {label: (statistics.median(times[label]), sqnr(ref, outputs[label])) for label, _ in rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for torch and ONNX Runtime (default: torch's); on a busy machine "
                         "1 avoids most of the spinning of idle-waiting thread pools")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        import onnxruntime
    except ImportError:
        print("onnxruntime is not installed (scripts/test installs the pinned version)")
        return 1
    rounds, reps = (3, 2) if args.quick else (7, 4)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    cpu = sorted({f for f in open("/proc/cpuinfo").read().split() if f in ("avx2", "avx512_vnni", "avx_vnni")})
    print("export/ORT benchmark: torch %s, onnxruntime %s, %d threads, libffqrt ISA %s (CPU flags: %s)" % (
        torch.__version__, onnxruntime.__version__, threads, _ffqrt.isa() if _ffqrt.available() else "none",
        " ".join(cpu)))
    g = torch.Generator().manual_seed(1)
    models = [
        ("MLP stack 4x768-3072", "mlp", build(MLPStack, 1), lambda: torch.randn(128, 768, generator=g)),
        ("BERT-style encoder", "encoder", build(Encoder, 2), lambda: torch.randn(1, 128, 256, generator=g)),
        ("ResNet-18 CNN", "resnet", build(ResNet18, 3), lambda: torch.randn(1, 3, 128, 128, generator=g)),
    ]
    worst_r = worst_f = float("inf")
    worst_s = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for name, tag, model, make in models:
            x = make()
            calib = [make() for _ in range(4)]
            result = bench_model(model, x, calib, rounds, reps, threads, tmp, tag)
            base = result["float torch"][0]
            print("\n%s (input %s)\n" % (name, tuple(x.shape)))
            print("| row | ms (median) | speed vs float | SQNR dB |")
            print("|---|---|---|---|")
            for label, (t, s) in result.items():
                print("| %s | %.2f | %.2fx | %.1f |" % (label, t * 1e3, base / t, s))
            qdq_t, qdq_s = result["onnxruntime QDQ int8 (exported)"]
            worst_r = min(worst_r, base / qdq_t)
            worst_f = min(worst_f, result["onnxruntime float (exported)"][0] / qdq_t)
            worst_s = min(worst_s, qdq_s)
    print("\nexport_ort: ort_qdq_vs_float=%.2f ort_qdq_vs_ort_float=%.2f sqnr_db=%.1f (threads=%d)"
          % (worst_r, worst_f, worst_s, threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())

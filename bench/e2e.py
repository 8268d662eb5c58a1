"""End-to-end benchmark: three models, float torch vs int8 peers vs fastforward (simulated
and integer), time and SQNR against the float output, all in one run on the same inputs.

Models: a transformer MLP stack (4 x 768->3072->768, GELU, residuals, 128 tokens), a small
BERT-style encoder (4 layers, d=256, 4 heads, FFN 1024, 128 tokens; torch modules), and a
ResNet-18-shaped CNN (BN folded into the convs, 1 x 3 x 128 x 128).

Rows: float torch; torch.ao dynamic int8 (quantize_dynamic, Linear only); optimum-quanto
w8a8 (calibrated, frozen); torchao int8 dynamic activation + int8 weight (Linear only);
ONNX Runtime running the fastforward model exported with QDQ nodes (fastforward.export; the
CPU provider fuses QDQ pairs into its own int8 kernels where its patterns match);
fastforward simulated (dequantize -> float op -> quantize); fastforward integer (libffqrt,
the summary line); and fastforward integer with dynamic linear inputs (the opt-in dynamic
path: Linear inputs stay float and libffqrt quantizes them per call to 7 bits, like torch's
dynamic quantization; convs as in the static row), summarised on the line before.
The fastforward models are what a user gets: ``quantize_model`` turns the model into
QuantizedLinear / QuantizedConv2d (and the other layers with stub quantizers); every Linear /
Conv2d input goes through a static per-tensor asymmetric 8-bit LinearQuantizer, weights are
symmetric per output channel, ranges are min/max over separate calibration data; outputs
stay float and the rest runs in float as in the peers. (Before 2026-12-06 the rows used a
bench-private module calling the quantizer and ``fastforward.nn.functional``, which skipped
the layers' call plans.)

Run with the peers' venv (bench/setup_peers.sh) and the build's library:

    FFQRT_LIBRARY=build/runtime/libffqrt.so $(bench/setup_peers.sh) bench/e2e.py [--quick]

With FFQRT_ISA=avx2 (or avxvnni, avx512vnni) the peers are held to the same ISA by default
(--peers-isa, bench/peer_isa.py), so the comparison is the one an AVX2-only (or AVX-512
without AMX) machine would see; ONNX Runtime cannot be held and is then left out of R.

A peer that is not installed or fails is reported with the reason and left out. Timings:
rounds alternate between the rows (medians of per-round times), every row under
torch.inference_mode (until 2026-12-06 the fastforward rows ran under torch.no_grad, which
costs every torch op of the model its view and version bookkeeping: 3-5 % on the encoder).

Summary: ``e2e: vs_best_peer=R sqnr_gap_db=G vs_simulated=S`` with R = fastest peer's time
over ours (worst model; peers = float torch and the int8 libraries), G = best int8 peer's
SQNR minus ours (worst model), S = simulated time over ours (worst model).
"""

import argparse
import copy
import math
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "runtime", "python"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward import _ffqrt, _integer  # noqa: E402
from fastforward.nn import QuantizerStub  # noqa: E402
from fastforward.nn.quantized_layers import QuantizedLinear  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402

sys.path.insert(0, HERE)
import export_ort  # noqa: E402  (bench/export_ort.py: the fastforward model and the ONNX Runtime session)
import peer_isa  # noqa: E402  (bench/peer_isa.py: the peers on a smaller ISA)
from e2e_models import Encoder, MLPStack, ResNet18, build  # noqa: E402  (bench/e2e_models.py)

warnings.filterwarnings("ignore")

# --- fastforward versions ---------------------------------------------------------------------


def to_fastforward(model, calib, dynamic=False):
    """``export_ort.to_fastforward`` (bench/export_ort.py: the model as quantize_model makes
    it, Linear / Conv2d inputs static 8-bit per tensor, weights per channel); with
    ``dynamic`` the Linear inputs stay float (stubs) for the dynamic path."""
    ffm = export_ort.to_fastforward(model, calib)
    if dynamic:
        for module in ffm.modules():
            if isinstance(module, QuantizedLinear):
                module.input_quantizer = QuantizerStub()
    return ffm


# --- peers ---------------------------------------------------------------------------------------


def peer_torch_dynamic(model, calib):
    if not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise RuntimeError("no Linear layers")
    q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    return q


def peer_quanto(model, calib):
    from optimum.quanto import Calibration, freeze, qint8, quantize

    q = copy.deepcopy(model)
    quantize(q, weights=qint8, activations=qint8)
    with torch.no_grad(), Calibration():
        for x in calib:
            q(x)
    freeze(q)
    return q


def peer_torchao(model, calib):
    import torchao.quantization as tq

    q = copy.deepcopy(model)
    config = getattr(tq, "Int8DynamicActivationInt8WeightConfig", None)
    if config is not None:
        tq.quantize_(q, config())
    else:
        tq.quantize_(q, tq.int8_dynamic_activation_int8_weight())
    return q


DYN = "fastforward integer, dynamic 7-bit linear inputs (ours)"

# --- measuring -------------------------------------------------------------------------------------


def sqnr(ref, out):
    ref, out = ref.double(), out.double()
    noise = float(((ref - out) ** 2).sum())
    return float("inf") if noise == 0 else 10 * math.log10(float((ref ** 2).sum()) / noise)


def runner(fn, integer=None, dynamic=False):
    def call(x):
        with torch.inference_mode():
            if integer is None:
                return fn(x)
            with _integer.integer_execution(integer), _integer.dynamic_activations(dynamic), \
                    ff.strict_quantization(False):
                out = fn(x)
            return out.dequantize() if isinstance(out, QuantizedTensor) else out
    return call


ORT = "onnxruntime QDQ (exported)"
# The QDQ model in ONNX Runtime and the simulated model compute the same quantized graph;
# they differ by a step where ONNX Runtime's int8 kernels round differently (measured 51-62 dB
# on the three models; a wrong export was -344 dB).
ORT_MIN_SQNR_DB = 30


def ort_row(ffm, x):
    """ONNX Runtime on the CPU running ``ffm`` exported with QuantizeLinear/DequantizeLinear
    (fastforward.export), with as many threads as torch uses. The row is dropped (with the
    reason) when ONNX Runtime's output is not close to the simulated model's: a wrong export
    must not be timed as a fast peer."""
    import shutil
    import tempfile

    from fastforward.export import export

    tmp = tempfile.mkdtemp(prefix="ffq-e2e-ort-")
    try:
        with ff.strict_quantization(False):
            export(ffm, (x,), tmp, "model", format="onnx_qdq")
        call = export_ort.ort_session(os.path.join(tmp, "model.onnx"), torch.get_num_threads())
    finally:
        shutil.rmtree(tmp)  # the session holds the model in memory
    simulated = runner(ffm, integer=False)(x)
    agreement = sqnr(simulated, call(x))
    if agreement < ORT_MIN_SQNR_DB:
        raise RuntimeError("its output is %.1f dB from the simulated model's (at least %d dB expected)"
                           % (agreement, ORT_MIN_SQNR_DB))
    return call


def bench_model(name, model, x, calib, rounds, reps):
    rows, notes = [], {}
    rows.append(("float torch", runner(model)))
    for label, make in (("torch dynamic int8", peer_torch_dynamic), ("quanto w8a8", peer_quanto),
                        ("torchao int8-dyn-act int8-w", peer_torchao)):
        try:
            q = make(model, calib)
            fn = runner(q)
            fn(x)
            rows.append((label, fn))
        except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
            notes[label] = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0][:90] if str(exc) else "")
    ffm = to_fastforward(model, calib)
    try:  # the same quantized model, exported with QDQ nodes and run by ONNX Runtime
        rows.append((ORT, ort_row(ffm, x)))
    except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
        notes[ORT] = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0][:90] if str(exc) else "")
    rows.append(("fastforward simulated", runner(ffm, integer=False)))
    rows.append(("fastforward integer (ours)", runner(ffm, integer=True)))
    rows.append((DYN, runner(to_fastforward(model, calib, dynamic=True), integer=True, dynamic=True)))
    with torch.inference_mode():
        ref = model(x)
    outputs = {label: fn(x) for label, fn in rows}
    times = {label: [] for label, _ in rows}
    for _ in range(rounds):
        for label, fn in rows:
            fn(x)  # warm
            t0 = time.perf_counter()
            for _ in range(reps):
                fn(x)
            times[label].append((time.perf_counter() - t0) / reps)
    result = {}
    for label, _ in rows:
        result[label] = (statistics.median(times[label]), sqnr(ref, outputs[label]))
    return result, notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--peers-isa", default="match", choices=peer_isa.CHOICES,
                    help="run torch and the libraries on it as on a CPU with only this ISA "
                    "(default 'match': the ISA FFQRT_ISA forces on libffqrt, so FFQRT_ISA=avx2 "
                    "compares with peers on AVX2; 'native': this CPU's full ISA)")
    args = ap.parse_args()
    capped = peer_isa.resolve(args.peers_isa, os.environ.get("FFQRT_ISA", "auto"))
    peer_isa.apply(capped)
    rounds, reps = (3, 2) if args.quick else (7, 4)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    cpu = sorted({f for f in open("/proc/cpuinfo").read().split() if f in ("avx2", "avx512_vnni", "avx_vnni")})
    print("e2e benchmark: torch %s, %d threads, libffqrt ISA %s (CPU flags: %s)" % (
        torch.__version__, threads, _ffqrt.isa(), " ".join(cpu)))
    print(peer_isa.describe(capped))
    if not _ffqrt.available():
        print("libffqrt not loaded: set FFQRT_LIBRARY=build/runtime/libffqrt.so")
        return 1
    g = torch.Generator().manual_seed(1)
    models = [
        ("MLP stack 4x768-3072", build(MLPStack, 1), lambda: torch.randn(128, 768, generator=g)),
        ("BERT-style encoder", build(Encoder, 2), lambda: torch.randn(1, 128, 256, generator=g)),
        ("ResNet-18 CNN", build(ResNet18, 3), lambda: torch.randn(1, 3, 128, 128, generator=g)),
    ]
    int8_peers = ("torch dynamic int8", "quanto w8a8", "torchao int8-dyn-act int8-w", ORT)
    peers = ("float torch",) + int8_peers
    worst = {k: [float("inf"), float("-inf"), float("inf")] for k in ("static", "dynamic")}
    for name, model, make in models:
        x = make()
        calib = [make() for _ in range(4)]
        result, notes = bench_model(name, model, x, calib, rounds, reps)
        base = result["float torch"][0]
        print("\n%s (input %s)\n" % (name, tuple(x.shape)))
        print("| row | ms (median) | speed vs float | SQNR dB |")
        print("|---|---|---|---|")
        for label, (t, s) in result.items():
            print("| %s | %.2f | %.2fx | %.1f |" % (label, t * 1e3, base / t, s))
        for label, why in notes.items():
            print("| %s | skipped: %s | | |" % (label, why))
        if capped != "native" and ORT in result:
            print("\n(%s ran on this CPU's full ISA, not capped to %s: left out of the comparison)"
                  % (ORT, capped))
        if name.startswith("ResNet"):
            print("\nNote: quantize_dynamic and torchao quantize only the final Linear here (their "
                  "convs stay float); quanto's QConv2d did not quantize conv inputs in our checks "
                  "(an isolated conv's SQNR equals the weight-only figure), so no peer row "
                  "quantizes conv activations as ours do.")
        dyn_t, dyn_s = result[DYN]
        # Peers that leave every layer in float (quantize_dynamic / torchao on a CNN) are
        # not int8 peers for that model.
        # Rows peer_isa cannot cap run on this CPU's full ISA: not peers of a smaller one.
        present = [p for p in peers if p in result and (capped == "native" or p != ORT)]
        quantized = [p for p in int8_peers if p in result and result[p][1] < 200]
        fastest = min(present, key=lambda p: result[p][0])
        best_q = max(result[p][1] for p in quantized) if quantized else float("nan")
        for key, label in (("static", "fastforward integer (ours)"), ("dynamic", DYN)):
            ours_t, ours_s = result[label]
            r = result[fastest][0] / ours_t
            gap = best_q - ours_s
            s = result["fastforward simulated"][0] / ours_t
            print("\n%s vs fastest peer (%s): %.2fx; SQNR gap to best int8 peer: %.1f dB; vs simulated: %.1fx"
                  % (label, fastest, r, gap, s))
            w = worst[key]
            w[0], w[2] = min(w[0], r), min(w[2], s)
            if not math.isnan(gap):
                w[1] = max(w[1], gap)
    print("\n(dynamic-input variant: vs_best_peer=%.2f sqnr_gap_db=%.1f vs_simulated=%.1f)" % tuple(worst["dynamic"]))
    print("e2e: vs_best_peer=%.2f sqnr_gap_db=%.1f vs_simulated=%.1f (isa=%s, peers=%s, threads=%d)"
          % tuple(worst["static"] + [_ffqrt.isa(), capped, threads]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

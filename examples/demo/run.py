"""The ffq demo: quantize a trained digits classifier at several settings and show the result.

    python3 examples/demo/run.py [--out DIR] [--quick]

What it does, step by step (each step prints what it is doing):

1. loads DigitsNet (``digits_net.py``) with the weights in ``digits_net.pt`` (trained by
   ``train.py`` on scikit-learn's bundled digits images; trained on the spot if missing);
2. runs ``ffq autoquant`` on ``digits_net.py``: the generated ``quantized_digits_net.py`` is
   kept in DIR (default ``build/demo``) and imported;
3. for each setting (W8A8 min-max, W8A8 output-MSE, W4A8 per-group) converts a copy of the
   float model, calibrates it on held-out images (progress bar), and measures accuracy on
   the test images, model size, latency (float torch, simulated quantization, integer
   kernels) and the SQNR of each layer's output against the float model;
4. prints the tables and writes ``demo_results.png`` next to the generated file.

``--quick`` uses fewer timing repetitions (for the test suite).
"""

import argparse
import copy
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
if os.path.isdir(os.path.join(REPO, "runtime", "python", "fastforward")):
    sys.path.insert(0, os.path.join(REPO, "runtime", "python"))  # this checkout's fastforward

import fastforward as ff  # noqa: E402
import torch  # noqa: E402
from data import load_digits_split  # noqa: E402
from digits_net import DigitsNet  # noqa: E402
from fastforward import _integer  # noqa: E402
from fastforward._autoquantize import find_ffq  # noqa: E402
from fastforward.nn import LinearQuantizer  # noqa: E402
from fastforward.range_setting import running_minmax  # noqa: E402
from fastforward.range_setting.output_mse import set_weight_ranges_by_output_mse  # noqa: E402

LAYERS = ["conv1", "conv2", "fc1", "fc2"]
CHECKPOINT = os.path.join(HERE, "digits_net.pt")


def step(text):
    print("\n== %s" % text, flush=True)


def progress(items, label):
    """Yield ``items``, drawing a progress bar on a terminal or a plain line per step."""
    items = list(items)
    tty = sys.stdout.isatty()
    for i, item in enumerate(items, 1):
        yield item
        if tty:
            filled = 30 * i // len(items)
            sys.stdout.write("\r   %-28s [%s%s] %d/%d" % (label, "#" * filled, "." * (30 - filled), i, len(items)))
            if i == len(items):
                sys.stdout.write("\n")
        else:
            sys.stdout.write("   %s: batch %d/%d\n" % (label, i, len(items)))
        sys.stdout.flush()


# --- the float model ----------------------------------------------------------------------------


def float_model(data):
    model = DigitsNet()
    if os.path.exists(CHECKPOINT):
        model.load_state_dict(torch.load(CHECKPOINT))
        print("   loaded the trained weights from %s" % os.path.relpath(CHECKPOINT))
    else:
        from train import train

        t0 = time.process_time()
        torch.manual_seed(0)
        train(model, *data["train"])
        print("   %s is missing: trained on the spot (%.1f s of CPU)" % (CHECKPOINT, time.process_time() - t0))
    model.eval()
    return model


# --- ffq autoquant ------------------------------------------------------------------------------


def autoquant(model, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    generated = os.path.join(out_dir, "quantized_digits_net.py")
    print("   ff.autoquantize(model, output_path=..., auto_import=True) runs the compiler (%s):"
          % find_ffq())
    print("   $ ffq autoquant %s --module digits_net --class DigitsNet -o %s --force"
          % (os.path.relpath(os.path.join(HERE, "digits_net.py")), os.path.relpath(generated)))
    module = ff.autoquantize(model, output_path=generated, force_overwrite=True, auto_import=True)
    print("   kept the generated file %s;" % generated)
    print("   importing it registered %s, so ff.quantize_model() turns a DigitsNet into one"
          % module.QuantizedDigitsNet.__name__)
    return generated


# --- settings -----------------------------------------------------------------------------------


def w8_weights(model):
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(
        LinearQuantizer, num_bits=8, symmetric=True, allow_one_sided=False, granularity=ff.PerChannel(0))


def w4_group_weights(model, group=32):
    """4-bit weights: per group of ``group`` inputs for the linear layers (whose rows are long
    enough), per output channel for the convolutions (3x3 kernels: rows of 9 or 144)."""
    for name, module in model.named_modules():
        if name not in LAYERS:
            continue
        row = module.weight[0].numel()
        if isinstance(module, torch.nn.Linear) and row % group == 0:
            g = ff.PerBlock(-1, group, per_channel_dims=0)
        else:
            g = ff.PerChannel(0)
        module.weight_quantizer = LinearQuantizer(4, symmetric=True, allow_one_sided=False, granularity=g)
    # Quantizers get their ranges from the weights right away.
    for name in LAYERS:
        module = getattr(model, name)
        w = module.weight.detach()
        q = module.weight_quantizer
        with ff.estimate_ranges(q, running_minmax):
            q(w)


def a8_activations(model):
    ff.find_quantizers(model, "**/[quantizer:activation]").initialize(LinearQuantizer, num_bits=8, symmetric=False)
    # ffq also put a stub on each layer's result (quantizer__tmp_N) before the ReLU; the
    # layer's own output quantizer already quantizes that value, so these stay stubs.
    for name, _ in list(model.named_children()):
        if name.startswith("quantizer__tmp_"):
            setattr(model, name, ff.nn.QuantizerStub())


SETTINGS = [
    ("W8A8 min-max", "8-bit weights per output channel, 8-bit activations per tensor; ranges = min/max"),
    ("W8A8 output-MSE", "as W8A8, weight ranges chosen per channel to minimise each layer's output error"),
    ("W4A8 per-group", "4-bit weights per group of 32 inputs (convolutions: per channel), 8-bit activations"),
]


def quantized(float_net, setting, calibration_batches):
    model = ff.quantize_model(copy.deepcopy(float_net))
    if setting.startswith("W8"):
        w8_weights(model)
    else:
        w4_group_weights(model)
    a8_activations(model)
    with ff.estimate_ranges(model, running_minmax):
        for x in progress(calibration_batches, "calibrating " + setting):
            model(x)
    if setting == "W8A8 output-MSE":
        t0 = time.process_time()
        chosen = set_weight_ranges_by_output_mse(model, calibration_batches[:2], num_candidates=20)
        print("   output-MSE weight ranges for %s (%.1f s of CPU)" % (", ".join(chosen), time.process_time() - t0))
    return model


# --- measurements -------------------------------------------------------------------------------


def as_float(t):
    return t.dequantize() if hasattr(t, "dequantize") and type(t) is not torch.Tensor else t


def accuracy(model, x, y):
    with torch.no_grad():
        return float((as_float(model(x)).argmax(1) == y).float().mean()) * 100.0


def layer_outputs(model, x):
    outs = {}
    hooks = [getattr(model, n).register_forward_hook(
        lambda m, i, o, n=n: outs.__setitem__(n, as_float(o).detach().clone())) for n in LAYERS]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return outs


def sqnr_db(reference, test):
    noise = float(((reference - test) ** 2).sum())
    signal = float((reference ** 2).sum())
    return float("inf") if noise == 0 else 10.0 * torch.log10(torch.tensor(signal / noise)).item()


def size_bytes(model, quantized_model=None):
    """Bytes of the model's parameters as stored: float32, or for each quantized weight its
    integers packed at their bit width plus one float32 scale (and offset) per channel/group."""
    total = 0
    for name, p in model.named_parameters():
        layer, _, kind = name.rpartition(".")
        q = getattr(getattr(quantized_model, layer, None), "weight_quantizer", None) if quantized_model else None
        if kind == "weight" and isinstance(q, LinearQuantizer):
            params = q.scale.numel() * (1 if q.symmetric else 2)
            total += (p.numel() * q.num_bits + 7) // 8 + 4 * params
        else:
            total += 4 * p.numel()
    return total


def median_seconds(fn, repeats):
    """Median CPU time of ``fn()`` on one thread. torch and libffqrt both run on the calling
    thread then, so its CPU time is what the work costs: unlike the wall clock it does not
    grow when other programs share the machine, and unlike the process's CPU time it leaves
    out torch's idle worker threads spinning in the background."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fn()  # warm-up (packs weights on the integer path)
        times = []
        for _ in range(repeats):
            t0 = time.thread_time()
            fn()
            times.append(time.thread_time() - t0)
    finally:
        torch.set_num_threads(threads)
    return statistics.median(times)


def integer_ops(model, x):
    """(layers, i.e. linear and conv ops, that ran on the integer kernels; all ops that did;
    ops the integer kernels were offered) in one forward pass."""
    seen = []
    note = _integer._note
    _integer._note = lambda op, path: (seen.append((op, path)), note(op, path))
    try:
        with torch.no_grad(), _integer.integer_execution(True):
            model(x)
    finally:
        _integer._note = note
    layers = sum(1 for op, p in seen if p == "integer" and op in ("linear", "conv1d", "conv2d"))
    return layers, sum(1 for _, p in seen if p == "integer"), len(seen)


def latency(t_float, model, x, repeats):
    def run(m):
        with torch.no_grad():
            m(x)
    with _integer.integer_execution(False):
        t_sim = median_seconds(lambda: run(model), repeats)
    layers, on_int, seen = integer_ops(model, x)
    if layers < len(LAYERS):  # the layers' weights have no integer kernel: no number to show
        return t_float, t_sim, None, (layers, on_int, seen)
    with _integer.integer_execution(True):
        t_int = median_seconds(lambda: run(model), repeats)
    return t_float, t_sim, t_int, (layers, on_int, seen)


# --- output -------------------------------------------------------------------------------------


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["   " + "  ".join(str(h).ljust(w) for h, w in zip(header, widths)), "   " + line]
    for r in rows:
        out.append("   " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print("\n".join(out))


def ms(t):
    return "%.2f ms" % (t * 1e3)


def summary(results):
    """What the tables say, in words (from the numbers just measured)."""
    print()
    print("   In short:")
    for r in results:
        speed = []
        if r["t_int"] is not None:
            speed.append("integer path %.2fx the speed of float torch and %.2fx that of the simulated path"
                         % (r["t_float"] / r["t_int"], r["t_sim"] / r["t_int"]))
        else:
            speed.append("simulated only, %.2fx the speed of float torch" % (r["t_float"] / r["t_sim"]))
        print("   * %s: accuracy %+.2f points vs float, %.1fx smaller; %s."
              % (r["setting"], r["acc"] - r["float_acc"], r["float_size"] / r["size"], speed[0]))


def figure(path, results, sqnr):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["setting"] for r in results]
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))

    ax = axes[0]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(LAYERS))]
        vals = [sqnr[name][layer] for layer in LAYERS]
        bars = ax.bar(xs, vals, width, label=name, color=colors[i + 1])
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(range(len(LAYERS)), LAYERS)
    ax.set_ylabel("SQNR of the layer output vs float (dB)")
    ax.set_title("Per-layer SQNR (higher is better)")
    top = max(v for name in names for v in sqnr[name].values() if v != float("inf"))
    ax.set_ylim(0, top * 1.25)
    ax.legend(fontsize=8, loc="upper center", ncol=len(names))

    ax = axes[1]
    labels = ["float"] + names
    accs = [results[0]["float_acc"]] + [r["acc"] for r in results]
    bars = ax.bar(range(len(labels)), accs, color=colors[:len(labels)])
    ax.bar_label(bars, fmt="%.1f%%", fontsize=8)
    low = min(accs)
    bottom = max(0.0, 10.0 * (low // 10.0) - 10.0)
    ax.set_ylim(bottom, 100.5)
    sizes = [results[0]["float_size"]] + [r["size"] for r in results]
    ax.set_xticks(range(len(labels)), ["%s\n%.0f KB" % (lbl.replace(" ", "\n", 1), b / 1e3)
                                       for lbl, b in zip(labels, sizes)], fontsize=8)
    ax.set_ylabel("test accuracy (%%), %d images (axis from %d%%)" % (results[0]["n_test"], bottom))
    ax.set_title("Accuracy per setting (and model size)")

    ax = axes[2]
    width = 0.27
    labelled = set()
    for i, r in enumerate(results):
        kinds = [("float torch", r["t_float"], "#7f7f7f"), ("simulated", r["t_sim"], "#9467bd"),
                 ("integer", r["t_int"], "#17becf")]
        for k, (kind, t, color) in enumerate(kinds):
            x = i + (k - 1) * width
            if t is None:
                ax.text(x, 0.2, "integer path: n/a\n(no 4-bit kernel)", ha="center", va="bottom", fontsize=7,
                        rotation=90)
                continue
            bar = ax.bar([x], [t * 1e3], width, color=color, label=None if kind in labelled else kind)
            labelled.add(kind)
            ax.bar_label(bar, fmt="%.1f", fontsize=7)
    ax.set_xticks(range(len(names)), [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    ax.set_xlim(-0.6, len(names) - 0.25)
    ax.set_ylabel("median CPU time, batch of %d, 1 thread (ms)" % results[0]["n_test"])
    ax.set_title("Latency per setting (lower is better)")
    ax.legend(fontsize=8)

    fig.suptitle("ffq demo: DigitsNet on scikit-learn's 8x8 digits, float vs quantized", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "build", "demo"),
                        help="where the generated file and the figure go (default: build/demo)")
    parser.add_argument("--quick", action="store_true", help="fewer timing repetitions")
    args = parser.parse_args(argv)
    t_start = time.perf_counter()
    torch.manual_seed(0)
    ff.set_strict_quantization(False)

    step("1/4  the float model: DigitsNet, trained on scikit-learn's digits images")
    data = load_digits_split()
    x_cal, _ = data["calibration"]
    x_test, y_test = data["test"]
    print("   %d training images, %d held-out calibration images, %d test images (8x8, 10 classes)"
          % (len(data["train"][0]), len(x_cal), len(x_test)))
    net = float_model(data)
    float_acc = accuracy(net, x_test, y_test)
    print("   float accuracy on the test images: %.2f%%" % float_acc)

    step("2/4  ffq autoquant: generate QuantizedDigitsNet from the model's source")
    generated = autoquant(net, args.out)

    step("3/4  quantize, calibrate on the held-out images, measure")
    batches = [x_cal[i:i + 50] for i in range(0, len(x_cal), 50)]
    float_outs = layer_outputs(net, x_test)
    repeats = 5 if args.quick else 20
    results, sqnr = [], {}
    with torch.no_grad():
        t_float = median_seconds(lambda: net(x_test), repeats)
    for setting, _ in SETTINGS:
        model = quantized(net, setting, batches)
        acc = accuracy(model, x_test, y_test)
        q_outs = layer_outputs(model, x_test)
        sqnr[setting] = {n: sqnr_db(float_outs[n], q_outs[n]) for n in LAYERS}
        t_float, t_sim, t_int, int_ops = latency(t_float, model, x_test, repeats)
        results.append(dict(setting=setting, acc=acc, float_acc=float_acc, n_test=len(x_test),
                            size=size_bytes(net, model), float_size=size_bytes(net),
                            t_float=t_float, t_sim=t_sim, t_int=t_int, int_ops=int_ops))
        print("   %s: accuracy %.2f%% (float %.2f%%)" % (setting, acc, float_acc))

    step("4/4  results")
    print("   Settings:")
    for setting, what in SETTINGS:
        print("     %-16s %s" % (setting, what))
    print()
    rows = [["float (torch)", "%.2f%%" % float_acc, "-", "%.1f KB" % (results[0]["float_size"] / 1e3), "1.00x",
             ms(results[0]["t_float"]), "-", "-"]]
    for r in results:
        layers, on_int, seen = r["int_ops"]
        if r["t_int"] is None:
            integer = "n/a: no 4-bit kernel" if layers == 0 else "n/a: %d of %d layers" % (layers, len(LAYERS))
        else:
            integer = "%s (%.2fx)  %d/%d ops" % (ms(r["t_int"]), r["t_float"] / r["t_int"], on_int, seen)
        rows.append([r["setting"], "%.2f%%" % r["acc"], "%+.2f" % (r["acc"] - float_acc),
                     "%.1f KB" % (r["size"] / 1e3), "%.2fx" % (r["float_size"] / r["size"]),
                     ms(r["t_float"]), "%s (%.2fx)" % (ms(r["t_sim"]), r["t_float"] / r["t_sim"]), integer])
    table(["setting", "accuracy", "vs float", "size", "smaller", "float torch", "simulated (speed-up)",
           "integer path (speed-up)"], rows)
    print("   Size: parameters as stored (quantized weights packed at their bit width, plus their scales")
    print("   and offsets; biases float32). Latency: median CPU time of %d runs on the %d test images as"
          % (repeats, len(x_test)))
    print("   one batch, one thread; speed-up = float time / this time (above 1 = faster than float).")
    print("   simulated = quantize/dequantize around float torch ops; integer path = libffqrt int8 kernels")
    print("   (%s); 'k/n ops' = ops the kernels ran of those they were offered. 4-bit weights have no"
          % (ff._ffqrt.isa() if ff._ffqrt.available() else "libffqrt not loaded"))
    print("   integer kernel, so W4A8 runs simulated only (n/a).")
    print()
    print("   Per-layer SQNR: signal-to-quantization-noise ratio of each layer's output vs the float")
    print("   model on the test images, in dB (higher is better; every 6 dB is about one bit):")
    table(["setting"] + LAYERS, [[s] + ["%.1f dB" % sqnr[s][n] for n in LAYERS] for s, _ in SETTINGS])

    summary(results)
    png = os.path.join(os.path.dirname(generated), "demo_results.png")
    figure(png, results, sqnr)
    print()
    print("   generated code: %s" % generated)
    print("   figure:         %s" % png)
    print("   demo run time:  %.1f s" % (time.perf_counter() - t_start))
    return results, sqnr


if __name__ == "__main__":
    main()

"""Real model code through the README's workflow: float vs simulated vs integer execution.

bench/e2e.py measures models written for the benchmark, with quantizers on the Linear and
Conv2d layers only. Users quantize library code: ``ff.quantize(model, weights=8,
activations=8)`` runs ffq autoquant on the model's classes, so every op of the model
(attention matmuls, softmax, layer norms, residual adds, embeddings, dropout) gets its
quantizers, and ``ff.calibration`` sets their ranges. This benchmark times that model, as
the library builds it from a config with random weights (nothing is downloaded):

* ``roberta``: transformers' RobertaModel, d=256, 4 layers, 4 heads, FFN 1024, 128 tokens;
* ``qwen3``: transformers' Qwen3Model, d=256, 4 layers, 4 heads (2 KV heads), 128 tokens;
* ``vit``: timm's deit_tiny_patch16_224 at 224 x 224 (197 tokens, 12 blocks);
* ``resnet``: timm's resnet18 at 224 x 224;
* ``mobilenet``, ``efficientnet`` (not run by default): timm's mobilenetv3_large_100 and
  efficientnet_b0 at 224 x 224, many small layers (depthwise convolutions, squeeze-excite
  blocks, a batch norm and an activation after every convolution), where the Python around
  each quantized op weighs most.

Rows: float torch, torch's dynamic int8 (``quantize_dynamic``, Linear only), the
fastforward model simulated (``integer_execution(False)``) and on the integer path (the
default); all under ``torch.inference_mode``, rounds alternating, medians. SQNR is against
the float model's first output.

Run with the Python that has transformers and timm (scripts/test makes ``.venv-models``)
and the build's library:

    FFQRT_LIBRARY=build/runtime/libffqrt.so .venv-models/bin/python bench/real_models.py [--threads N] [NAME...]

Summary: ``real_models: int_vs_float=A int_vs_simulated=B`` (worst model: float time over
the integer path's, simulated time over the integer path's).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import statistics
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "runtime", "python"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("FFQ_BINARY", os.path.join(ROOT, "build", "src", "ffq"))
warnings.filterwarnings("ignore")


def build(name, torch):
    """(float model in eval mode, inputs as keyword arguments)."""
    g = torch.Generator().manual_seed(1)
    if name in ("roberta", "qwen3"):
        import transformers as tf

        if name == "roberta":
            cfg = tf.RobertaConfig(vocab_size=1000, hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                                   num_attention_heads=4, max_position_embeddings=132)
            model = tf.RobertaModel(cfg)
        else:
            cfg = tf.Qwen3Config(vocab_size=1000, hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                                 num_attention_heads=4, num_key_value_heads=2, head_dim=64,
                                 max_position_embeddings=132)
            model = tf.Qwen3Model(cfg)
        try:
            model.config._attn_implementation = "eager"
        except AttributeError:
            pass
        return model.eval(), {"input_ids": torch.randint(5, 1000, (1, 128), generator=g)}
    import models_e2e

    models_e2e.shim_torchvision()  # timm imports torchvision (see tests/models_e2e.py)
    import timm

    arch = {"vit": "deit_tiny_patch16_224", "resnet": "resnet18", "mobilenet": "mobilenetv3_large_100",
            "efficientnet": "efficientnet_b0"}[name]
    model = timm.create_model(arch, pretrained=False, num_classes=10)
    return model.eval(), {"x": torch.randn(1, 3, 224, 224, generator=g)}


def first(out):
    import models_e2e

    return models_e2e.flatten(out, [])[0]


def real(t):
    return (t.dequantize() if hasattr(t, "dequantize") else t).float()


def sqnr(ref, got):
    noise = float(((got.double() - ref.double()) ** 2).sum())
    return float("inf") if noise == 0 else 10 * math.log10(float((ref.double() ** 2).sum()) / noise)


def run(name, torch, rounds):
    import fastforward as ff
    from fastforward import _integer

    torch.manual_seed(0)
    model, inputs = build(name, torch)
    with torch.inference_mode():
        ref = first(model(**inputs)).float()
    quantized = copy.deepcopy(model)
    with contextlib.redirect_stderr(io.StringIO()):
        ff.quantize(quantized, weights=8, activations=8)
    with torch.no_grad(), ff.calibration(quantized):
        quantized(**inputs)
    dynamic = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)

    def simulated():
        with _integer.integer_execution(False):
            return quantized(**inputs)

    rows = [("float torch", lambda: model(**inputs)), ("torch dynamic int8", lambda: dynamic(**inputs)),
            ("fastforward simulated", simulated), ("fastforward integer", lambda: quantized(**inputs))]
    times = {label: [] for label, _ in rows}
    quality = {}
    with torch.inference_mode():
        for label, fn in rows:
            quality[label] = sqnr(ref, real(first(fn())))
            fn()
        for _ in range(rounds):
            for label, fn in rows:
                n, t0 = 0, time.perf_counter()
                while n < 3 or time.perf_counter() - t0 < 0.2:
                    fn()
                    n += 1
                times[label].append((time.perf_counter() - t0) / n)
    return {label: (statistics.median(v) * 1e3, quality[label]) for label, v in times.items()}


def main():
    try:
        import torch
        import transformers  # noqa: F401
        import models_e2e

        models_e2e.shim_torchvision()  # before timm imports torchvision
        import timm  # noqa: F401
    except ImportError as exc:
        python = os.path.join(ROOT, ".venv-models", "bin", "python")
        if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(ROOT, ".venv-models")) and os.path.exists(python):
            os.execv(python, [python] + sys.argv)
        print("real_models: skipped (%s; scripts/test makes .venv-models with transformers and timm)" % exc)
        return 0
    from fastforward import _ffqrt

    args = sys.argv[1:]
    if args[:1] == ["--threads"] and len(args) > 1:
        torch.set_num_threads(int(args[1]))
        args = args[2:]
    names = args or ["roberta", "qwen3", "vit", "resnet"]
    rounds = 5
    lib = _ffqrt.library_path() if _ffqrt.available() else "NOT LOADED (set FFQRT_LIBRARY)"
    print("torch %s, %d threads; libffqrt %s" % (torch.__version__, torch.get_num_threads(), lib))
    worst_float, worst_sim = float("inf"), float("inf")
    for name in names:
        result = run(name, torch, rounds)
        fl = result["float torch"][0]
        print("\n%s\n\n| row | ms (median) | speed vs float | SQNR dB |\n|---|---|---|---|" % name)
        for label, (ms, db) in result.items():
            print("| %s | %.2f | %.2fx | %.1f |" % (label, ms, fl / ms, db))
        ours = result["fastforward integer"][0]
        worst_float = min(worst_float, fl / ours)
        worst_sim = min(worst_sim, result["fastforward simulated"][0] / ours)
        sys.stdout.flush()
    print("\nreal_models: int_vs_float=%.2f int_vs_simulated=%.2f (worst model; threads=%d)"
          % (worst_float, worst_sim, torch.get_num_threads()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

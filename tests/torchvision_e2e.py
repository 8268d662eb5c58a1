#!/usr/bin/env python3
"""Real models nobody here wrote: torchvision's model files, autoquantized as a
user would (`ffq autoquant <file> -o <out>`, no --class), then swapped into a
float model with fastforward.quantize_model; the outputs must be bitwise
identical (stubs are identity).

Usage: torchvision_e2e.py FFQ_BINARY

Runs under a Python that has torchvision (Debian's /usr/bin/python3 with
python3-torchvision 0.14 and python3-torch 1.13). Prints, per model, the
modules swapped, the stubs inserted and ffq's time, and ends with
`torchvision: N passed, M failed`.
"""
import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "runtime", "python"))

MODELS = [
    ("resnet", "resnet18", "BasicBlock"),
    ("mobilenetv2", "mobilenet_v2", "InvertedResidual"),
    ("mobilenetv3", "mobilenet_v3_small", "InvertedResidual"),
    ("efficientnet", "efficientnet_b0", "MBConv"),
    ("vision_transformer", "vit_b_16", "EncoderBlock"),
    ("convnext", "convnext_tiny", "CNBlock"),
    ("densenet", "densenet121", "_DenseLayer"),
    ("googlenet", "googlenet", "Inception"),
    ("shufflenetv2", "shufflenet_v2_x0_5", "InvertedResidual"),
    ("regnet", "regnet_x_400mf", "ResBottleneckBlock"),
    ("swin_transformer", "swin_t", "SwinTransformerBlock"),
    ("maxvit", "maxvit_t", "MaxVitBlock"),
]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def main():
    ffq = os.path.abspath(sys.argv[1])
    try:
        import torch
        import torchvision
        import torchvision.models as tvm
    except ImportError as e:
        print("torchvision: skipped (%s)" % e)
        print("torchvision: 0 passed, 0 failed")
        return 0
    import fastforward

    fastforward.set_strict_quantization(False)  # stubs pass float tensors on (float fallback)
    src_dir = os.path.join(os.path.dirname(torchvision.__file__), "models")
    out_dir = tempfile.mkdtemp(prefix="ffq-tv-")
    passed = failed = 0
    print("torch %s, torchvision %s" % (torch.__version__, torchvision.__version__))
    for mod, ctor, block in MODELS:
        src = os.path.join(src_dir, mod + ".py")
        out = os.path.join(out_dir, mod + ".py")
        t0 = time.perf_counter()
        p = subprocess.run([ffq, "autoquant", src, "--module", "torchvision.models." + mod, "-o", out,
                            "--python", sys.executable],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ms = (time.perf_counter() - t0) * 1e3
        if p.returncode != 0:
            failed += 1
            print("FAIL  %s: ffq exit %d\n%s" % (mod, p.returncode, p.stderr))
            continue
        stubs = re.search(r"(\d+) quantizer stub", p.stderr)
        try:
            load("ffq_generated_" + mod, out)
            torch.manual_seed(0)
            model = getattr(tvm, ctor)().eval()
            # Submodule types ffq cannot see statically (e.g. a norm_layer passed as an
            # argument) have no generated class: they run as float surrogates.
            quant = copy.deepcopy(model)
            quant = fastforward.quantize_model(
                quant, extra_conversion=fastforward.surrogate_quantized_modules(quant))
            swapped = [type(m).__name__ for m in quant.modules()
                       if type(m).__name__.startswith("Quantized")]
            x = torch.randn(2, 3, 224, 224)
            with torch.no_grad():
                same = torch.equal(model(x), quant(x))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("FAIL  %s: %s: %s" % (mod, type(e).__name__, e))
            continue
        ok = same and ("Quantized" + block) in swapped
        passed += ok
        failed += not ok
        print("%s  %-18s %-20s swapped %3d modules (%s), %s stubs, ffq %.1f ms%s" % (
            "ok  " if ok else "FAIL", mod, ctor, len(swapped), ", ".join(sorted(set(swapped))),
            stubs.group(1) if stubs else "?", ms, "" if same else ", OUTPUT DIFFERS"))
    print("torchvision: %d passed, %d failed" % (passed, failed))
    if failed:
        print("generated code kept in %s" % out_dir)
        return 1
    shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

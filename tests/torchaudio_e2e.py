#!/usr/bin/env python3
"""Real audio models nobody here wrote: torchaudio's model files, autoquantized
as a user would (`ffq autoquant <file> -o <out>`), swapped into a float model
with fastforward.quantize_model (classes ffq could not see statically run as
float surrogates); the outputs must be bitwise identical (stubs are identity).

Usage: torchaudio_e2e.py FFQ_BINARY

Runs under a Python with torchaudio (Debian's /usr/bin/python3 with
python3-torchaudio 0.13 and python3-torch 1.13); without it, it says so and
passes nothing. Small configurations, random weights, fixed seeds. Ends with
`torchaudio: N passed, M failed`.
"""
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_e2e import load  # noqa: E402  (importing a generated file as a module)


def models(torch, tam):
    """(module under torchaudio.models, build() -> model, inputs() -> tuple, a class that must be swapped)."""
    def wav2vec2():
        return tam.wav2vec2_model(
            extractor_mode="group_norm", extractor_conv_layer_config=[(8, 10, 5), (8, 3, 2)],
            extractor_conv_bias=False, encoder_embed_dim=16, encoder_projection_dropout=0.0,
            encoder_pos_conv_kernel=4, encoder_pos_conv_groups=2, encoder_num_layers=2,
            encoder_num_heads=2, encoder_attention_dropout=0.0, encoder_ff_interm_features=32,
            encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=False,
            encoder_layer_drop=0.0, aux_num_out=5)

    return [
        ("wav2letter", lambda: tam.Wav2Letter(num_classes=10, input_type="waveform", num_features=1),
         lambda: (torch.randn(2, 1, 4000),), "Wav2Letter"),
        ("conv_tasnet", lambda: tam.ConvTasNet(num_sources=2, enc_kernel_size=16, enc_num_feats=32,
                                               msk_kernel_size=3, msk_num_feats=16, msk_num_hidden_feats=32,
                                               msk_num_layers=2, msk_num_stacks=1),
         lambda: (torch.randn(2, 1, 800),), "ConvBlock"),
        ("deepspeech", lambda: tam.DeepSpeech(n_feature=16, n_hidden=32, n_class=10),
         lambda: (torch.randn(2, 1, 20, 16),), "FullyConnected"),
        ("conformer", lambda: tam.Conformer(input_dim=16, num_heads=2, ffn_dim=32, num_layers=2,
                                            depthwise_conv_kernel_size=3),
         lambda: (torch.randn(2, 10, 16), torch.tensor([10, 8])), "ConformerLayer"),
        ("emformer", lambda: tam.Emformer(input_dim=16, num_heads=2, ffn_dim=32, num_layers=2,
                                          segment_length=4),
         lambda: (torch.randn(2, 12, 16), torch.tensor([12, 12])), "Emformer"),
        ("wav2vec2.components", wav2vec2, lambda: (torch.randn(2, 1000),), "EncoderLayer"),
    ]


def first_tensor(value):
    return value if hasattr(value, "shape") else value[0]


def run_one(ffq, torch, fastforward, mod, build, inputs, block, out_dir):
    """Returns (ok, detail)."""
    name = "torchaudio.models." + mod
    src = importlib.import_module(name).__file__
    out = os.path.join(out_dir, mod.replace(".", "_") + ".py")
    t0 = time.perf_counter()
    p = subprocess.run([ffq, "autoquant", src, "--module", name, "-o", out, "--python", sys.executable],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    ms = (time.perf_counter() - t0) * 1e3
    if p.returncode != 0:
        return False, "ffq exit %d\n%s" % (p.returncode, p.stderr)
    stubs = re.search(r"(\d+) quantizer stub", p.stderr)
    load("ffq_generated_" + mod.replace(".", "_"), out)
    torch.manual_seed(0)
    model = build().eval()
    args = inputs()
    torch.manual_seed(0)  # a second copy, the same weights (deepcopy fails on weight_norm in 1.13)
    quant = build().eval()
    quant = fastforward.quantize_model(quant, extra_conversion=fastforward.surrogate_quantized_modules(quant))
    swapped = sorted({type(m).__name__ for m in quant.modules() if type(m).__name__.startswith("Quantized")})
    with torch.no_grad():
        same = torch.equal(first_tensor(model(*args)), first_tensor(quant(*args)))
    ok = same and ("Quantized" + block) in swapped
    return ok, "swapped %s; %s stubs, ffq %.1f ms%s%s" % (
        ", ".join(swapped), stubs.group(1) if stubs else "?", ms, "" if same else "; OUTPUT DIFFERS",
        "" if ("Quantized" + block) in swapped else "; %s NOT SWAPPED" % block)


def main():
    ffq = os.path.abspath(sys.argv[1])
    try:
        import torch
        import torchaudio.models as tam
    except ImportError as e:
        print("torchaudio: skipped (%s; scripts/test installs python3-torchaudio)" % e)
        return 77
    import fastforward

    fastforward.set_strict_quantization(False)  # stubs pass float tensors on (float fallback)
    out_dir = tempfile.mkdtemp(prefix="ffq-ta-")
    passed = failed = 0
    print("torch %s; generated code in %s" % (torch.__version__, out_dir))
    for mod, build, inputs, block in models(torch, tam):
        try:
            ok, detail = run_one(ffq, torch, fastforward, mod, build, inputs, block, out_dir)
        except Exception as e:  # noqa: BLE001 - report and go on
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        passed += ok
        failed += not ok
        print("%s  %-20s %s" % ("ok  " if ok else "FAIL", mod, detail))
        sys.stdout.flush()
    print("torchaudio: %d passed, %d failed" % (passed, failed))
    if failed:
        print("generated code kept in %s" % out_dir)
        return 1
    shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the peers as on a CPU with fewer instruction sets than this one.

When libffqrt is forced onto a smaller ISA (`--isa avx2`, `FFQRT_ISA=avx2`), comparing it
with torch running AVX-512 or AMX kernels on the same machine says little about an AVX2-only
CPU. The libraries torch brings each read an environment variable that caps the
instructions they use, once, when they first run:

  ATEN_CPU_CAPABILITY          torch's own vectorised kernels (elementwise, reductions,
                               quantize / dequantize)
  FBGEMM_ENABLE_INSTRUCTIONS   fbgemm: quantized linear / conv of the 'x86' engine
  ONEDNN_MAX_CPU_ISA           oneDNN: float conv, some quantized ops
  MKL_ENABLE_INSTRUCTIONS      MKL: float GEMM (torch.nn.Linear, matmul)

`apply(target)` sets them for `target` and, if torch is already imported with other
values, restarts the script (os.execv) so that they take effect. ONNX Runtime has no such
switch (its MLAS kernels follow CPUID), so its rows keep this CPU's full ISA: `UNCAPPED`
names them and the benchmarks print that next to their figures.
"""
import os
import sys

# ffq ISA name -> environment for the peers. "amx" and "native" change nothing.
CAPS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
             "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "avxvnni": {"ATEN_CPU_CAPABILITY": "avx2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
                "ONEDNN_MAX_CPU_ISA": "AVX2_VNNI", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    # An AVX-512 VNNI CPU without AMX (Zen 4, Cascade Lake, Ice Lake): only oneDNN uses AMX.
    "avx512vnni": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"},
}
UNCAPPED = ("ONNX Runtime",)
CHOICES = ("match", "native", "avx2", "avxvnni", "avx512vnni")


def resolve(peers_isa, ours_isa):
    """The ISA the peers should run: `ours_isa` for "match", nothing for "native"."""
    target = ours_isa if peers_isa == "match" else peers_isa
    return target if target in CAPS else "native"


def apply(target):
    """Set the caps for `target`; restart the script if torch already read other values."""
    want = CAPS.get(target, {})
    if all(os.environ.get(k) == v for k, v in want.items()):
        return
    os.environ.update(want)
    if "torch" in sys.modules:
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable] + sys.argv)


def describe(target):
    """One line for the benchmark's header: what the peers were capped to, and whether it took."""
    if target == "native":
        return "peers: this CPU's full ISA"
    import torch
    cpu = getattr(torch.backends, "cpu", None)  # torch >= 2.0
    have = cpu.get_cpu_capability() if cpu else "unknown"
    caps = " ".join("%s=%s" % kv for kv in sorted(CAPS[target].items()))
    return ("peers capped to %s (%s; torch reports CPU capability %s); %s not capped: "
            "no runtime switch, it keeps this CPU's ISA" % (target, caps, have, ", ".join(UNCAPPED)))

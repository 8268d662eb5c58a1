"""Tests of bench/peer_isa.py, which makes the benchmarks' peers (torch and the libraries it
loads) run as on a CPU with a smaller ISA: which ISA a flag combination asks for, and that
`apply` really restarts a script that imported torch, once, with torch then on that ISA.

    python3 tests/python/test_bench_peer_isa.py
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench")
sys.path.insert(0, BENCH)
sys.path.insert(0, HERE)

import peer_isa  # noqa: E402
from plain_runner import run, skip  # noqa: E402

CHILD = """
import sys
sys.path.insert(0, %r)
print("start", flush=True)
import torch
import peer_isa
peer_isa.apply(%r)
import os
cpu = getattr(torch.backends, "cpu", None)  # torch >= 2.0
print("capability", cpu.get_cpu_capability() if cpu else "unknown")
for k in sorted(peer_isa.CAPS.get(%r, {})):
    print("env", k, os.environ.get(k))
print("args", sys.argv[1:])
"""


def cpu_has(flag):
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and flag in line.split() for line in f)


def run_child(target):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "child.py")
        with open(path, "w") as f:
            f.write(CHILD % (BENCH, target, target))
        env = {k: v for k, v in os.environ.items() if k not in
               {k2 for caps in peer_isa.CAPS.values() for k2 in caps}}
        out = subprocess.run([sys.executable, path, "--flag", "x"], env=env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout.splitlines()


def test_resolve_follows_our_isa_unless_told():
    assert peer_isa.resolve("match", "avx2") == "avx2"
    assert peer_isa.resolve("match", "avxvnni") == "avxvnni"
    assert peer_isa.resolve("match", "avx512vnni") == "avx512vnni"
    # the CPU's best (or AMX, which no peer library can be held to) leaves the peers alone
    assert peer_isa.resolve("match", "auto") == "native"
    assert peer_isa.resolve("match", "amx") == "native"
    assert peer_isa.resolve("native", "avx2") == "native"
    assert peer_isa.resolve("avx2", "auto") == "avx2"


def test_apply_restarts_once_with_torch_on_avx2():
    if not cpu_has("avx2"):
        skip("the CPU has no AVX2")
    lines = run_child("avx2")
    # imported torch before apply: the script ran again from the start, exactly once
    assert lines.count("start") == 2, lines
    assert "capability AVX2" in lines or "capability unknown" in lines, lines
    for k, v in peer_isa.CAPS["avx2"].items():
        assert "env %s %s" % (k, v) in lines, lines
    assert lines[-1] == "args ['--flag', 'x']", lines


def test_native_changes_nothing():
    lines = run_child("native")
    assert lines.count("start") == 1, lines
    assert not any(line.startswith("env") for line in lines), lines


if __name__ == "__main__":
    sys.exit(run(globals()))

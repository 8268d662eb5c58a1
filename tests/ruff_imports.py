#!/usr/bin/env python3
"""Import hygiene (issue 6): `ruff check --isolated --select F401,I001` finds
nothing in any snapshot, nor in ffq's output for torchvision's model files,
with fastforward as third party and the input's top-level package as first
party. Ruff is the oracle, never a dependency of ffq.

Usage: ruff_imports.py FFQ_BINARY      (last line: `ruff-imports: N passed, M failed`)
"""
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check(path, first_party):
    p = subprocess.run(["ruff", "check", "--isolated", "--select", "F401,I001", "--output-format",
                        "concise", "--config", "lint.isort.known-first-party=['%s']" % first_party,
                        "--config", "lint.isort.known-third-party=['fastforward']", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode == 0, p.stdout


def main():
    if not shutil.which("ruff"):
        print("ruff-imports: skipped (ruff is not installed)")
        return 77
    ffq = os.path.abspath(sys.argv[1])
    jobs = []
    for snap in sorted(glob.glob(os.path.join(ROOT, "snapshots", "**", "*.py"), recursive=True)):
        rel = os.path.relpath(snap, os.path.join(ROOT, "snapshots"))
        case = os.path.join(ROOT, "tests", "cases", rel)
        parts = rel.split(os.sep)
        first = parts[1] if parts[0] == "packages" and len(parts) > 2 else parts[0]
        if os.path.exists(case):
            # the case's --module (as tests/snapshots.py reads it) names the first-party package
            args = []
            with open(case) as f:
                for line in f:
                    if not line.startswith("#"):
                        break
                    if line.startswith("# ffq:"):
                        args += shlex.split(line[len("# ffq:"):])
            if "--module" in args[:-1]:
                first = args[args.index("--module") + 1].split(".")[0]
        jobs.append((snap, first))
    tv = "/usr/lib/python3/dist-packages/torchvision/models"
    tmp = tempfile.mkdtemp(prefix="ffq-ruff-")
    for src in sorted(glob.glob(os.path.join(tv, "*.py"))):
        name = os.path.basename(src)[:-3]
        out = os.path.join(tmp, name + ".py")
        p = subprocess.run([ffq, "autoquant", src, "--module", "torchvision.models." + name, "-o", out,
                            "-q", "--python", "/usr/bin/python3"], stderr=subprocess.PIPE, text=True)
        if p.returncode == 0 and os.path.exists(out):
            jobs.append((out, "torchvision"))
    passed = failed = 0
    for path, first in jobs:
        ok, msg = check(path, first)
        passed += ok
        failed += not ok
        if not ok:
            print("FAIL  %s\n%s" % (path, msg))
    shutil.rmtree(tmp, ignore_errors=True)
    print("ruff-imports: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

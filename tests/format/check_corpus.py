#!/usr/bin/env python3
"""Compare ffq's formatter with `ruff format` (the oracle) on a corpus.

Usage: check_corpus.py [--ffq-fmt PATH] [--ruff PATH] [--group NAME]... [--diffs N]
                       [--quiet] [FILE_OR_DIR ...]

Examples:
    python3 tests/format/check_corpus.py --quiet                 # all groups
    python3 tests/format/check_corpus.py --group torchvision     # one group
    python3 tests/format/check_corpus.py snapshots tests/cases   # directories

For every Python file: run `ffq-fmt FILE` and `ruff format --isolated
--line-length 100 -` on the file's text; the file passes when both outputs are
byte-identical and formatting ffq's output again changes nothing
(idempotence). Files ruff itself cannot parse are skipped. Prints one line per
file, a unified diff for the first few failures, a summary per group and a
final `N passed, M failed` line. Exit status 1 if anything failed.

Groups (used when no files are given): cases (tests/format/cases), torchvision
(Debian's python3-torchvision models), torch-nn (torch/nn/modules and
torch/nn/functional.py of the installed torch), stdlib (a few modules).
Groups whose files are not installed are empty. The oracle is ruff 0.17.6
(`pip install ruff==0.17.6`); another version only gets a warning.
"""
import argparse
import difflib
import glob
import os
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))
RUFF_VERSION = "0.17.6"


def torch_dir():
    try:
        import importlib.util

        spec = importlib.util.find_spec("torch")
        return os.path.dirname(spec.origin) if spec and spec.origin else None
    except Exception:
        return None


def groups():
    g = {}
    g["cases"] = sorted(glob.glob(os.path.join(HERE, "cases", "*.py")))
    tv = "/usr/lib/python3/dist-packages/torchvision/models"
    g["torchvision"] = sorted(glob.glob(os.path.join(tv, "*.py")))
    t = torch_dir()
    g["torch-nn"] = (
        sorted(glob.glob(os.path.join(t, "nn", "modules", "*.py")))
        + [os.path.join(t, "nn", "functional.py")]
        if t
        else []
    )
    std = sysconfig.get_paths()["stdlib"]
    names = ["argparse", "textwrap", "dataclasses", "functools", "heapq", "bisect", "shlex",
             "string", "copy", "fractions", "statistics", "glob", "fnmatch", "difflib"]
    g["stdlib"] = [os.path.join(std, n + ".py") for n in names if os.path.exists(os.path.join(std, n + ".py"))]
    return g


def run(cmd, data):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ffq-fmt", default=None)
    ap.add_argument("--ruff", default="ruff")
    ap.add_argument("--group", action="append", default=[])
    ap.add_argument("--diffs", type=int, default=3)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()

    exe = a.ffq_fmt
    if not exe:
        for cand in ["build/tests/format/ffq-fmt", "build-fmt/tests/format/ffq-fmt", "build-fmt/ffq-fmt-manual"]:
            if os.path.exists(cand):
                exe = cand
                break
    if not exe:
        print("check_corpus: no ffq-fmt binary (pass --ffq-fmt)", file=sys.stderr)
        return 2

    rv = subprocess.run([a.ruff, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    if RUFF_VERSION not in rv:
        print(f"check_corpus: warning: expected ruff {RUFF_VERSION}, found '{rv}'", file=sys.stderr)

    todo = []  # (group, path)
    for p in a.paths:
        if os.path.isdir(p):
            todo += [(p, f) for f in sorted(glob.glob(os.path.join(p, "**", "*.py"), recursive=True))]
        else:
            todo.append(("args", p))
    if a.group or not a.paths:
        g = groups()
        for name in a.group or list(g):
            todo += [(name, f) for f in g.get(name, [])]

    passed = failed = skipped = 0
    per_group = {}
    shown = 0
    for group, path in todo:
        with open(path, "rb") as fh:
            src = fh.read()
        rc, want = run([a.ruff, "format", "--isolated", "--line-length", "100", "-"], src)
        if rc != 0:
            skipped += 1
            continue
        rc, got = run([exe, "-"], src)
        ok = rc == 0 and got == want
        why = "" if ok else ("ffq-fmt failed" if rc != 0 else "differs from ruff")
        if ok:
            rc2, again = run([exe, "-"], got)
            if rc2 != 0 or again != got:
                ok, why = False, "not idempotent"
        pg = per_group.setdefault(group, [0, 0])
        if ok:
            passed += 1
            pg[0] += 1
            if not a.quiet:
                print(f"PASS {path}")
        else:
            failed += 1
            pg[1] += 1
            print(f"FAIL {path} ({why})")
            if shown < a.diffs:
                shown += 1
                other = got if why != "not idempotent" else again
                base = want if why != "not idempotent" else got
                d = difflib.unified_diff(
                    base.decode("utf-8", "replace").splitlines(True),
                    other.decode("utf-8", "replace").splitlines(True),
                    "ruff" if why != "not idempotent" else "ffq (pass 1)",
                    "ffq" if why != "not idempotent" else "ffq (pass 2)",
                )
                sys.stdout.writelines(list(d)[:80])
    for group, (p, f) in per_group.items():
        print(f"group {group}: {p} passed, {f} failed")
    if skipped:
        print(f"({skipped} files skipped: ruff could not parse them)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Regression cases of the robustness work: every crash, hang, sanitizer report
or invalid output found by the fuzzers, the sweep or the hostile tests.

Usage: regress.py FFQ_BINARY [NAME_SUBSTRING] [--timeout S]

A case is tests/robustness/cases/NAME.py (the input itself), or NAME.gen, a
Python script whose standard output is the input (for inputs too large to
keep in git). Options for ffq go in a first-line comment `# ffq: ARGS`, as in
the snapshot cases. Fuzzer reproducers (raw bytes) can be kept as NAME.py
too. Each case passes when ffq gives a correct result (exit 0, an output that
byte-compiles) or a clean error (exit 1 or 2 with an `error:` message and no
output file), with no crash, sanitizer report, hang (--timeout, default 20 s
of CPU time) or partial file. A `# limit: S` comment line in a .gen script
sets a stricter CPU-time limit for that case (performance bugs). Last line: `regress: N passed, M failed`.
"""
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limits  # noqa: E402
from sweep import SANITIZER, valid_python  # noqa: E402

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")


def options(data):
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    return shlex.split(first[len("# ffq:"):]) if first.startswith("# ffq:") else []


def run_case(ffq, name, timeout, tmp):
    src = os.path.join(CASES, name)
    base = name.rsplit(".", 1)[0]
    inp = os.path.join(tmp, base + ".py")
    if name.endswith(".gen"):
        data = subprocess.run([sys.executable, src], stdout=subprocess.PIPE, check=True).stdout
        for line in open(src, encoding="utf-8"):
            if line.startswith("# limit:"):
                timeout = min(timeout, float(line.split(":", 1)[1]))
    else:
        data = open(src, "rb").read()
    with open(inp, "wb") as f:
        f.write(data)
    out = os.path.join(tmp, "out.py")
    if os.path.exists(out):
        os.unlink(out)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    # The limit is CPU time (a loaded machine must not fail this), see limits.py.
    p = limits.run([ffq, "autoquant", base + ".py", "-o", "out.py"] + options(data), cpu=timeout,
                   cwd=tmp, env=env)
    if p.limit:
        return p.describe_limit(timeout), p.stderr.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    written = os.path.exists(out)
    if SANITIZER.search(err):
        return "sanitizer report", err
    if p.returncode not in (0, 1, 2) or "internal error" in err:
        return "crash (exit %d)" % p.returncode, err
    if p.returncode != 0:
        if written:
            return "failed run left an output file", err
        return (None if "error:" in err else "exit %d without a message" % p.returncode), err
    if not written:
        return "exit 0 without an output file", err
    ok, why = valid_python(out)
    return (None if ok else "invalid output: " + why), err


def main():
    args = sys.argv[1:]
    timeout = 20.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if not args:
        print(__doc__)
        return 2
    ffq = os.path.abspath(args[0])
    only = args[1] if len(args) > 1 else ""
    names = sorted(n for n in os.listdir(CASES) if n.endswith((".py", ".gen")) and only in n)
    passed = failed = 0
    for name in names:
        with tempfile.TemporaryDirectory(prefix="ffq-regress-") as tmp:
            why, err = run_case(ffq, name, timeout, tmp)
        if why is None:
            passed += 1
            print("ok    " + name, flush=True)
        else:
            failed += 1
            print("FAIL  %s: %s" % (name, why), flush=True)
            print("\n".join("      " + l for l in err.splitlines()[:8]))
    print("regress: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

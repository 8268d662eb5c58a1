#!/usr/bin/env python3
"""fastforward._paths in a source checkout, and its environment overrides.

Usage: paths_test.py SOURCE_ROOT FFQ_BINARY

Runs Python with PYTHONPATH=SOURCE_ROOT/runtime/python (fastforward read
from the checkout) and no FFQ_* variables, and checks that:

* the ffq executable and libffqrt are found in the checkout's `build/`
  (when FFQ_BINARY is that build's; other build directories are not
  searched, so then this part is skipped with a message), and the library
  loads with ctypes;
* the default operator table is the checkout's optable/default.yaml;
* FFQ_BINARY and FFQRT_LIBRARY win over everything;
* a copy of the package outside any checkout, with no ffq installed, finds no
  executable, and autoquantize says how to fix that.
Last line: `paths: N passed, M failed`.
"""
import os
import shutil
import subprocess
import sys
import tempfile

PROBE = r"""
import ctypes, json, os, sys
from fastforward import _paths
lib = _paths.libffqrt_path()
loaded = False
if lib and os.path.exists(lib):
    ctypes.CDLL(lib)
    loaded = True
print(json.dumps({"ffq": _paths.ffq_binary_path(), "lib": lib, "loaded": loaded,
                  "table": _paths.default_optable_path(), "checkout": _paths.in_checkout()}))
"""


def probe(pythonpath, cwd, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFQ", "PYTHON"))}
    env["PATH"] = "/usr/bin:/bin"  # no ffq on PATH
    env["PYTHONPATH"] = pythonpath
    env.update(extra)
    p = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    assert p.returncode == 0, p.stderr
    import json
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: paths_test.py SOURCE_ROOT FFQ_BINARY")
    root, ffq = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    pkg = os.path.join(root, "runtime", "python")
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL  " + what, flush=True)

    with tempfile.TemporaryDirectory(prefix="ffq-paths-") as tmp:
        facts = probe(pkg, tmp)
        check(facts["checkout"], "fastforward from runtime/python is not seen as a checkout: %s" % facts)
        check(facts["table"] == os.path.join(root, "optable", "default.yaml"), "default table: %s" % facts["table"])
        build = os.path.join(root, "build")
        if os.path.dirname(os.path.dirname(ffq)) == build:
            check(facts["ffq"] == ffq, "ffq found at %s, expected %s" % (facts["ffq"], ffq))
            check(facts["lib"] == os.path.join(build, "runtime", "libffqrt.so") and facts["loaded"],
                  "libffqrt: %s" % facts)
        else:
            print("skip  the checkout's build/: this ffq is in %s" % os.path.dirname(os.path.dirname(ffq)))

        facts = probe(pkg, tmp, FFQ_BINARY="/opt/elsewhere/ffq", FFQRT_LIBRARY="/opt/elsewhere/libffqrt.so")
        check(facts["ffq"] == "/opt/elsewhere/ffq", "FFQ_BINARY ignored: %s" % facts["ffq"])
        check(facts["lib"] == "/opt/elsewhere/libffqrt.so", "FFQRT_LIBRARY ignored: %s" % facts["lib"])

        # A copy outside any checkout and any installation: nothing to find.
        copy = os.path.join(tmp, "site")
        shutil.copytree(os.path.join(pkg, "fastforward"), os.path.join(copy, "fastforward"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        # As pip installs it: the operator table and the known-module list ship inside the package.
        os.makedirs(os.path.join(copy, "fastforward", "_data"), exist_ok=True)
        for data in ("default.yaml", "known_modules.txt"):
            shutil.copy(os.path.join(root, "optable", data), os.path.join(copy, "fastforward", "_data", data))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FFQ", "PYTHON"))}
        env.update(PATH="/usr/bin:/bin", PYTHONPATH=copy)
        has_system_ffq = shutil.which("ffq", path=env["PATH"])
        if has_system_ffq:
            print("skip  the no-executable case: %s exists" % has_system_ffq)
        else:
            facts = probe(copy, tmp)
            check(not facts["checkout"] and facts["ffq"] is None and facts["lib"] is None,
                  "a copy outside the checkout found: %s" % facts)
            code = ("import torch, fastforward\n"
                    "class M(torch.nn.Module):\n    pass\n")
            with open(os.path.join(tmp, "m.py"), "w") as f:
                f.write(code)
            p = subprocess.run([sys.executable, "-c", "import fastforward, m; fastforward.autoquantize(m.M())"],
                               cwd=tmp, env=dict(env, PYTHONPATH=copy + os.pathsep + tmp),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=300)
            check(p.returncode != 0 and "FfqError: cannot find the ffq executable" in p.stdout
                  and "FFQ_BINARY" in p.stdout and "reinstall" in p.stdout,
                  "no clear error without an executable:\n" + p.stdout[-1500:])
    print("paths: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

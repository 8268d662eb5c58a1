#!/usr/bin/env python3
"""ffq as a Python package: `pip wheel`, `pip install`, `pip install -e`, used from outside.

Usage: pip_install_test.py SOURCE_ROOT [wheel | editable]

wheel (the default): `pip wheel SOURCE_ROOT` must build one platform wheel
holding the ffq executable, fastforward with fastforward/_lib/libffqrt.so and
fastforward/_data/default.yaml, and nothing for developers (no static
library, no test program). The wheel is installed into a new venv, and from a
directory outside the checkout, with no FFQ_BINARY and no build directory in
sight, the test runs `ffq --version` and `ffq optable --list` (the embedded
table), imports fastforward from the venv, loads libffqrt with ctypes from the
path fastforward._paths gives, and runs fastforward.autoquantize on the
tutorial's MyLinear in a script; the generated class is then imported and run.

editable: `pip install -e SOURCE_ROOT` (meson-python builds into
SOURCE_ROOT/build/cp3XX); fastforward then comes from the checkout, the
library and ffq from that build, and autoquantize works the same way.

The venv takes torch from the base interpreter (--system-site-packages, so
no torch download) when the base interpreter has no fastforward and no ffq of
its own: otherwise a test could pass on what the base has rather than on what
was installed. When it has them, the venv is isolated and torch 2.13.0 (the
CPU wheel) is installed into it. Last line: `install: N passed, M failed`.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = None
CONSTRAINTS = None
TORCH = "torch==2.13.0"

TUTORIAL = '''import torch
from torch import nn


class MyLinear(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(input, self.weight, self.bias)
'''

# Run in the venv, from a directory outside the checkout. Prints one line per fact checked.
USE = r'''
import ctypes, importlib, os, sys
import fastforward
from fastforward import _paths
from mylinear import MyLinear

print("fastforward", os.path.dirname(fastforward.__file__))
lib = _paths.libffqrt_path()
print("libffqrt", lib)
rt = ctypes.CDLL(lib)
rt.ffqrt_isa_name.restype = ctypes.c_char_p
print("isa0", rt.ffqrt_isa_name(0).decode())
print("ffq", _paths.ffq_binary_path())
print("data", _paths.default_optable_path() or "MISSING")
print("known", _paths.known_modules_path() or "MISSING")
code = fastforward.autoquantize(MyLinear(4, 3), output_path="quantized_mylinear.py", force_overwrite=True)
print("generated", "class QuantizedMyLinear(" in code and "quantizer_self_weight" in code)
import torch
quantized = importlib.import_module("quantized_mylinear")
print("imported", issubclass(quantized.QuantizedMyLinear, fastforward.nn.QuantizedModule))
model = torch.nn.Sequential(MyLinear(4, 3))
fastforward.quantize_model(model)
fastforward.set_strict_quantization(False)  # stubs pass float tensors through
print("ran", type(model[0]).__name__, tuple(model(torch.randn(2, 4)).shape))
'''


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def run(cmd, cwd, env=None, timeout=1800):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=timeout)
    return p.returncode, p.stdout


def clean_env(venv=None, path_has_venv=True):
    """The environment of a user: no FFQ_* variables, no PYTHONPATH, the venv's bin on PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FFQ", "PYTHON", "VIRTUAL_ENV", "MESONPY"))}
    if venv:
        bin_dir = os.path.join(venv, "bin")
        rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and os.path.abspath(p) != bin_dir]
        env["PATH"] = os.pathsep.join(([bin_dir] if path_has_venv else []) + rest)
        env["VIRTUAL_ENV"] = venv
    return env


def base_has_ffq(scratch):
    """What of fastforward/ffq the base interpreter already has (it must have nothing)."""
    found = []
    rc, out = run([sys.executable, "-c", "import fastforward, sys; sys.stdout.write(fastforward.__file__)"],
                  scratch, env=clean_env())
    if rc == 0:
        found.append("fastforward (%s)" % out.strip())
    import sysconfig
    scripts = os.path.join(sysconfig.get_path("scripts"), "ffq")
    if os.path.exists(scripts):
        found.append(scripts)
    return found


def make_venv(tmp):
    venv = os.path.join(tmp, "venv")
    scratch = os.path.join(tmp, "elsewhere")
    os.makedirs(scratch, exist_ok=True)
    has = base_has_ffq(scratch)
    isolated = bool(has)
    args = [sys.executable, "-m", "venv", venv] + ([] if isolated else ["--system-site-packages"])
    rc, out = run(args, tmp)
    check(rc == 0, "python -m venv failed:\n" + out)
    py = os.path.join(venv, "bin", "python")
    if isolated:
        print("note: the base interpreter has %s; using an isolated venv with %s" % (", ".join(has), TORCH),
              flush=True)
        rc, out = run([py, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, TORCH], tmp)
        check(rc == 0, "installing %s failed:\n%s" % (TORCH, out))
    else:
        print("the base interpreter has no fastforward and no ffq: the venv takes torch from it", flush=True)
    # Before installing: nothing of ours is visible in the venv.
    rc, out = run([py, "-c", "import fastforward"], scratch, env=clean_env(venv))
    check(rc != 0, "fastforward is importable before installing:\n" + out)
    return venv, py, scratch


def use_from_outside(venv, py, scratch, expect_pkg_in, expect_ffq, path_extra=None):
    with open(os.path.join(scratch, "mylinear.py"), "w", encoding="utf-8") as f:
        f.write(TUTORIAL)
    with open(os.path.join(scratch, "use.py"), "w", encoding="utf-8") as f:
        f.write(USE)
    env = clean_env(venv)
    if path_extra:
        env["PATH"] = os.pathsep.join([path_extra, env["PATH"]])
    ffq = shutil.which("ffq", path=env["PATH"])
    check(ffq == expect_ffq, "ffq on PATH is %s, expected %s" % (ffq, expect_ffq))
    rc, out = run([ffq, "--version"], scratch, env=env)
    check(rc == 0 and out.startswith("ffq "), "ffq --version: %d %s" % (rc, out))
    rc, out = run([ffq, "optable", "--list"], scratch, env=env)
    check(rc == 0 and "linear" in out and len(out.splitlines()) > 20, "ffq optable --list:\n" + out[-2000:])
    # Without the venv on PATH, fastforward still finds the ffq installed with it.
    rc, out = run([py, "use.py"], scratch, env=clean_env(venv, path_has_venv=False))
    check(rc == 0, "use.py failed:\n" + out)
    facts = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    print("    " + out.replace("\n", "\n    ").rstrip(), flush=True)
    check(facts.get("fastforward", "").startswith(expect_pkg_in),
          "fastforward imported from %s, expected under %s" % (facts.get("fastforward"), expect_pkg_in))
    check(facts.get("ffq") == expect_ffq, "fastforward finds ffq at %s, expected %s" % (facts.get("ffq"), expect_ffq))
    check(facts.get("isa0", "").isalnum(), "libffqrt's ffqrt_isa_name(0) = %r" % facts.get("isa0"))
    check(facts.get("data", "MISSING") != "MISSING", "the default operator table (YAML) is missing")
    with open(facts["data"], "rb") as a, open(os.path.join(ROOT, "optable", "default.yaml"), "rb") as b:
        check(a.read() == b.read(), "fastforward/_data/default.yaml differs from optable/default.yaml")
    check(facts.get("known", "MISSING") != "MISSING", "the known-module list is missing")
    with open(facts["known"], "rb") as a, open(os.path.join(ROOT, "optable", "known_modules.txt"), "rb") as b:
        check(a.read() == b.read(), "fastforward/_data/known_modules.txt differs from optable/known_modules.txt")
    check(facts.get("generated") == "True", "autoquantize output lacks QuantizedMyLinear")
    check(facts.get("imported") == "True", "the generated module did not import")
    check(facts.get("ran") == "QuantizedMyLinear (2, 3)", "quantize_model: %r" % facts.get("ran"))
    return facts


def test_wheel(tmp):
    wheels = os.path.join(tmp, "wheels")
    rc, out = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, ROOT], tmp,
                  env=clean_env())
    check(rc == 0, "pip wheel failed:\n" + out[-6000:])
    built = glob.glob(os.path.join(wheels, "*.whl"))
    check(len(built) == 1, "expected one wheel, got %s" % built)
    name = os.path.basename(built[0])
    print("built " + name, flush=True)
    check(name.startswith("ffq-") and "-none-any" not in name and "linux" in name,
          "not a platform wheel: " + name)
    names = zipfile.ZipFile(built[0]).namelist()
    for want in ("fastforward/__init__.py", "fastforward/_paths.py", "fastforward/nn/functional.py",
                 "fastforward/_lib/libffqrt.so", "fastforward/_data/default.yaml",
                 "fastforward/_data/known_modules.txt"):
        check(any(n.endswith(want) and "/" + want in "/" + n for n in names), "%s missing from the wheel" % want)
    check(any(n.endswith(".data/scripts/ffq") for n in names), "the ffq executable is missing from the wheel")
    unwanted = [n for n in names if n.endswith((".a", ".h", ".c", ".pyc")) or "test_" in n or "bench" in n]
    check(not unwanted, "the wheel holds files users do not need: %s" % unwanted)

    venv, py, scratch = make_venv(tmp)
    rc, out = run([py, "-m", "pip", "install", "-c", CONSTRAINTS, built[0]], tmp, env=clean_env(venv))
    check(rc == 0, "pip install of the wheel failed:\n" + out[-4000:])
    site = run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp)[1].strip()
    facts = use_from_outside(venv, py, scratch, site, os.path.join(venv, "bin", "ffq"))
    check(facts["libffqrt"] == os.path.join(site, "fastforward", "_lib", "libffqrt.so"),
          "libffqrt not the packaged one: %s" % facts["libffqrt"])
    check(facts["data"] == os.path.join(site, "fastforward", "_data", "default.yaml"),
          "default.yaml not the packaged one: %s" % facts["data"])
    check(facts["known"] == os.path.join(site, "fastforward", "_data", "known_modules.txt"),
          "known_modules.txt not the packaged one: %s" % facts["known"])
    # A missing executable is a clear error, not a traceback from subprocess.
    os.rename(os.path.join(venv, "bin", "ffq"), os.path.join(venv, "bin", "ffq.moved"))
    env = clean_env(venv)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not os.path.exists(os.path.join(p, "ffq")))
    rc, out = run([py, "-c", "import fastforward, mylinear; fastforward.autoquantize(mylinear.MyLinear(2, 2))"],
                  scratch, env=env)
    check(rc != 0 and "cannot find the ffq executable" in out and "FFQ_BINARY" in out,
          "no clear error without ffq:\n" + out[-2000:])
    rc, out = run([py, "-m", "pip", "uninstall", "-y", "ffq"], tmp, env=clean_env(venv))
    check(rc == 0 and not os.path.exists(os.path.join(site, "fastforward")), "pip uninstall left fastforward:\n" + out)


def test_editable(tmp):
    venv, py, scratch = make_venv(tmp)
    # meson-python's editable install needs its build requirements in the venv
    # (--no-build-isolation): the import hook rebuilds with them.
    rc, out = run([py, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, "meson-python==0.22.1",
                   "meson==1.12.1", "ninja==1.13.0"], tmp, env=clean_env(venv))
    check(rc == 0, "installing the build requirements failed:\n" + out[-3000:])
    rc, out = run([py, "-m", "pip", "install", "--no-build-isolation", "-c", CONSTRAINTS, "-e", ROOT], tmp,
                  env=clean_env(venv))
    check(rc == 0, "pip install -e failed:\n" + out[-6000:])
    try:
        rc, out = run([py, "-c", "import fastforward._paths as p; print(p.checkout_build_dirs()[0])"], scratch,
                      env=clean_env(venv, path_has_venv=False))
        check(rc == 0, "import after pip install -e failed:\n" + out)
        build = out.strip().splitlines()[-1]
        check(os.path.dirname(build) == os.path.join(ROOT, "build"), "editable build dir %s" % build)
        # An editable install puts no ffq on PATH; fastforward uses the editable
        # build's (the command-line checks put it on PATH themselves).
        expect_ffq = os.path.join(build, "src", "ffq")
        check(os.access(expect_ffq, os.X_OK), "no ffq in the editable build %s" % build)
        facts = use_from_outside(venv, py, scratch, os.path.join(ROOT, "runtime", "python"), expect_ffq,
                                 path_extra=os.path.dirname(expect_ffq))
        check(facts["libffqrt"] == os.path.join(build, "runtime", "libffqrt.so"),
              "libffqrt not from the editable build: %s" % facts["libffqrt"])
    finally:
        run([py, "-m", "pip", "uninstall", "-y", "ffq"], tmp, env=clean_env(venv))


def main():
    global ROOT, CONSTRAINTS
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    ROOT = os.path.abspath(sys.argv[1])
    CONSTRAINTS = os.path.join(ROOT, "scripts", "constraints.txt")
    which = sys.argv[2] if len(sys.argv) == 3 else "wheel"
    tests = {"wheel": test_wheel, "editable": test_editable}
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="ffq-install-") as tmp:
        try:
            tests[which](tmp)
            passed += 1
            print("ok    " + which, flush=True)
        except (Fail, subprocess.TimeoutExpired) as e:
            failed += 1
            print("FAIL  %s: %s" % (which, e), flush=True)
    print("install: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

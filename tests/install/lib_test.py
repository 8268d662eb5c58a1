#!/usr/bin/env python3
"""The install steps of scripts/lib.sh, run against a new, empty venv.

Usage: lib_test.py SOURCE_ROOT

CI machines already have most packages, so an install step that is broken
would pass there unnoticed (it did: need_pip ended the script silently when a
package was missing). This test runs the real functions with PYTHON= pointing
at a venv made for the test, where nothing is installed yet, and checks that
each step installs what is missing and says so, does nothing the second time,
and fails with a reason and a non-zero status when it cannot do its job. It
installs one small pinned pure-Python package (six). Last line:
`lib.sh: N passed, M failed`.
"""
import os
import subprocess
import sys
import tempfile

ROOT = None
PACKAGE, VERSION = "six", "1.16.0"


def lib(python, script, cwd):
    """Run `script` in bash after sourcing scripts/lib.sh with PYTHON=python."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHON"] = python
    cmd = ["bash", "-c", 'source "$1/scripts/lib.sh"; ' + script, "lib_test", ROOT]
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=900)
    return p.returncode, p.stdout, p.stderr


def version_in(python, package):
    p = subprocess.run([python, "-c", "from importlib import metadata; print(metadata.version(%r))" % package],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
    return p.stdout.strip() if p.returncode == 0 else None


def venv(tmp, name, *flags):
    path = os.path.join(tmp, name)
    subprocess.run([sys.executable, "-m", "venv", *flags, path], check=True)
    return os.path.join(path, "bin", "python")


def test_need_pip_installs_what_is_missing(tmp):
    py = venv(tmp, "v1")
    assert version_in(py, PACKAGE) is None, "the new venv already has %s" % PACKAGE
    spec = "%s==%s" % (PACKAGE, VERSION)
    rc, out, err = lib(py, "need_pip %s; echo after-need-pip" % spec, tmp)
    assert rc == 0, (rc, err)
    assert "after-need-pip" in out, "the script ended inside need_pip:\n" + err
    assert "installing PyPI packages into %s: %s" % (os.path.dirname(os.path.dirname(py)), spec) in err, err
    assert version_in(py, PACKAGE) == VERSION, version_in(py, PACKAGE)
    # Second run: nothing to do, nothing said.
    rc, out, err = lib(py, "need_pip %s; echo after-need-pip" % spec, tmp)
    assert rc == 0 and "after-need-pip" in out, (rc, err)
    assert "installing" not in err, err
    # Another pinned version replaces the installed one.
    rc, out, err = lib(py, "need_pip %s==1.15.0" % PACKAGE, tmp)
    assert rc == 0 and "installing PyPI packages" in err, (rc, err)
    assert version_in(py, PACKAGE) == "1.15.0", version_in(py, PACKAGE)


def test_need_pip_failure_says_why(tmp):
    py = venv(tmp, "v2")
    rc, out, err = lib(py, "need_pip %s==0.0.999; echo not-reached" % PACKAGE, tmp)
    assert rc != 0 and "not-reached" not in out, (rc, out)
    assert "ffq setup: error: pip could not install: %s==0.0.999" % PACKAGE in err, err
    assert "0.0.999" in err.split("ffq setup: error")[0], "pip's own reason is not shown:\n" + err
    rc, out, err = lib(py, "need_pip %s; echo not-reached" % PACKAGE, tmp)
    assert rc != 0 and "not-reached" not in out, (rc, out)
    assert "'%s' is not pinned" % PACKAGE in err, err


def test_unusable_interpreter(tmp):
    rc, out, err = lib(os.path.join(tmp, "no-such-python"), "need_pip %s==%s; echo not-reached" % (PACKAGE, VERSION),
                       tmp)
    assert rc != 0 and "not-reached" not in out, (rc, out)
    assert "cannot run the Python interpreter" in err and "PYTHON=" in err, err
    py = venv(tmp, "nopip", "--without-pip")
    rc, out, err = lib(py, "need_pip %s==%s; echo not-reached" % (PACKAGE, VERSION), tmp)
    assert rc != 0 and "not-reached" not in out, (rc, out)
    assert "has no pip" in err, err


def test_pip_version_never_fails(tmp):
    # The old need_pip used `pip show | sed` under pipefail: a missing package
    # ended the script. pip_version answers "" instead.
    py = venv(tmp, "v3")
    rc, out, err = lib(py, 'v="$(pip_version no-such-package-ffq)"; echo "got[$v]"', tmp)
    assert rc == 0 and "got[]" in out, (rc, out, err)
    rc, out, err = lib(py, 'v="$(pip_version pip)"; echo "got[$v]"', tmp)
    assert rc == 0 and out.startswith("got[") and out.strip() != "got[]", (rc, out, err)


def test_build_deps_in_a_venv(tmp):
    # With only the system directories on PATH, build_deps installs meson into
    # the venv given as PYTHON and puts the venv's scripts directory on PATH.
    import shutil
    py = venv(tmp, "v4")
    system_path = "/usr/bin:/bin"
    env = {"HOME": os.environ.get("HOME", tmp), "PATH": system_path, "PYTHON": py}
    p = subprocess.run(["bash", "-c", 'source "$1/scripts/lib.sh"; build_deps; command -v meson ninja',
                        "lib_test", ROOT], cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=900)
    assert p.returncode == 0, p.stderr
    found = p.stdout.split()
    if shutil.which("meson", path=system_path):
        assert found[0] == shutil.which("meson", path=system_path), found
    else:
        assert "installing PyPI packages into %s: meson==1.12.1" % os.path.dirname(os.path.dirname(py)) in p.stderr, \
            p.stderr
        assert found[0] == os.path.join(os.path.dirname(py), "meson"), found
        assert version_in(py, "meson") == "1.12.1"
    assert len(found) == 2 and found[1].endswith("/ninja"), found


def test_failed_build_step_says_why(tmp):
    # build() on a source tree that does not configure: a message and a non-zero exit.
    bad = os.path.join(tmp, "src")
    os.makedirs(bad)
    with open(os.path.join(bad, "meson.build"), "w") as f:
        f.write("project('x', 'c')\nerror('broken on purpose')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    p = subprocess.run(["bash", "-c", 'source "$1/scripts/lib.sh"; ROOT="$2"; build build; echo not-reached',
                        "lib_test", ROOT, bad], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    assert p.returncode != 0 and "not-reached" not in p.stdout, (p.returncode, p.stdout)
    assert "broken on purpose" in p.stderr and "ffq setup: error: meson setup build failed" in p.stderr, p.stderr


def main():
    global ROOT
    if len(sys.argv) != 2:
        sys.exit("usage: lib_test.py SOURCE_ROOT")
    ROOT = os.path.abspath(sys.argv[1])
    passed = failed = 0
    for name, fn in sorted((k, v) for k, v in globals().items() if k.startswith("test_")):
        with tempfile.TemporaryDirectory(prefix="ffq-lib-") as tmp:
            try:
                fn(tmp)
                passed += 1
                print("ok    " + name, flush=True)
            except AssertionError as e:
                failed += 1
                print("FAIL  %s: %s" % (name, e), flush=True)
    print("lib.sh: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

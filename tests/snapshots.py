#!/usr/bin/env python3
"""Snapshot tests: run `ffq autoquant` on every tests/cases/**/*.py and compare.

For a case tests/cases/<area>/<name>.py the expectations are
  snapshots/<area>/<name>.py   the generated module (standard output), and/or
  snapshots/<area>/<name>.err  the diagnostics (standard error) followed by a
                               last line `[exit N]`.
A case that exits 0 needs a .py; its .err is optional, but then standard
error must be empty (so new warnings are never silently accepted).

Multi-file cases live in tests/cases/packages/<case>/ (a package); its
model.py is the entry, the other modules are what it imports.

Per-case options go in comment lines at the top of the case:
  # ffq: --class Foo --no-type-inference      extra command-line arguments
  # optable: tables/minimal.yaml               an --optable file (relative to the case)
The input's module name is <area>.<name> unless `# ffq:` sets --module.
ffq runs in the case's directory, so paths in .err files are relative to it.

Every generated .py must byte-compile. Mismatches print a unified diff.

Usage:
  snapshots.py FFQ_BINARY [CASE_GLOB...]        check
  FFQ_UPDATE_SNAPSHOTS=1 snapshots.py FFQ ...   rewrite expectations; refuses to
      turn a case whose snapshot is a .py into an error, and refuses output that
      does not byte-compile. Review every change with `git diff snapshots/`.
"""
import difflib
import fnmatch
import os
import py_compile
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "tests", "cases")
SNAPS = os.path.join(ROOT, "snapshots")


def is_package_case(rel):
    """Multi-file cases: tests/cases/packages/<case>/ is a package; its model.py
    is the entry and ffq derives the module name from the package root."""
    parts = rel.split(os.sep)
    return len(parts) >= 3 and parts[0] == "packages" and parts[-1] == "model.py"


def case_args(path, area, name):
    args, module = [], None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            if line.startswith("# ffq:"):
                args += shlex.split(line[len("# ffq:"):])
            elif line.startswith("# optable:"):
                args += ["--optable", line[len("# optable:"):].strip()]
    rel = os.path.relpath(path, CASES)
    if "--module" not in args and not is_package_case(rel):
        module = (area.replace(os.sep, ".") + "." + name) if area else name
        args += ["--module", module]
    return args


def run_case(ffq, path):
    rel = os.path.relpath(path, CASES)
    area, base = os.path.split(rel)
    name = base[:-3]
    args = case_args(path, area, name)
    proc = subprocess.run([ffq, "autoquant", base] + args, cwd=os.path.dirname(path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    err = proc.stderr.decode("utf-8", "replace")
    # a followed module's diagnostics name its file by absolute path: made relative to the
    # case's directory, so the expected output does not depend on where the checkout is
    for where in {os.path.dirname(os.path.abspath(path)), os.path.dirname(os.path.realpath(path))}:
        err = err.replace(where + os.sep, "")
    # the end-of-run summary carries a timing: it is checked by the CLI tests, not here
    err = "".join(ln for ln in err.splitlines(True) if not ln.startswith("ffq: summary: "))
    return rel, proc.returncode, proc.stdout.decode("utf-8", "replace"), err


def read(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def diff(expected, actual, label):
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        "expected/" + label, "actual/" + label))


def compiles(text):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as f:
        f.write(text)
        tmp = f.name
    try:
        py_compile.compile(tmp, doraise=True)
        return None
    except py_compile.PyCompileError as e:
        return str(e)
    finally:
        os.unlink(tmp)


def check(ffq, path, update):
    rel, rc, out, err = run_case(ffq, path)
    stem = os.path.join(SNAPS, rel[:-3])
    exp_py, exp_err = read(stem + ".py"), read(stem + ".err")
    err_text = err + "[exit %d]\n" % rc
    problems = []
    if rc == 0:
        bad = compiles(out)
        if bad:
            problems.append("generated code does not byte-compile:\n" + bad)
        if update and not bad:
            if exp_py != out:
                write(stem + ".py", out)
                print("updated  " + rel[:-3] + ".py")
            if err:
                if exp_err != err_text:
                    write(stem + ".err", err_text)
                    print("updated  " + rel[:-3] + ".err")
            elif exp_err is not None:
                os.unlink(stem + ".err")
                print("removed  " + rel[:-3] + ".err")
            return rel, not problems, problems
        if exp_py is None:
            problems.append("no snapshot " + os.path.relpath(stem + ".py", ROOT))
        elif exp_py != out:
            problems.append(diff(exp_py, out, rel))
        if (exp_err or "") != (err_text if err else ""):
            problems.append(diff(exp_err or "", err_text if err else "", rel[:-3] + ".err"))
    else:
        if update:
            if exp_py is not None:
                problems.append("refusing to update: the case has a .py snapshot but now fails:\n" + err)
            else:
                if exp_err != err_text:
                    write(stem + ".err", err_text)
                    print("updated  " + rel[:-3] + ".err")
                return rel, True, []
        elif exp_err is None:
            problems.append("ffq failed (exit %d) and there is no .err snapshot:\n%s" % (rc, err))
        elif exp_err != err_text:
            problems.append(diff(exp_err, err_text, rel[:-3] + ".err"))
    return rel, not problems, problems


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ffq = os.path.abspath(sys.argv[1])
    globs = sys.argv[2:] or ["*"]
    update = os.environ.get("FFQ_UPDATE_SNAPSHOTS") == "1"
    cases = []
    for dirpath, _, files in os.walk(CASES):
        for fn in files:
            p = os.path.join(dirpath, fn)
            rel = os.path.relpath(p, CASES)
            if not fn.endswith(".py") or fn.startswith("_") or "/_" in "/" + os.path.dirname(rel):
                continue  # helper modules of multi-file cases start with "_" (or live in _dirs)
            if rel.startswith("packages" + os.sep) and not is_package_case(rel):
                continue  # the other modules of a package case
            if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(rel, g + ".py") for g in globs):
                cases.append(p)
    cases.sort()
    passed = failed = 0
    for p in cases:
        rel, ok, problems = check(ffq, p, update)
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL  " + rel)
            for pr in problems:
                print(pr.rstrip("\n"))
            print()
    print("%d/%d passed" % (passed, passed + failed))
    print("snapshots: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not cases else 0)


if __name__ == "__main__":
    main()

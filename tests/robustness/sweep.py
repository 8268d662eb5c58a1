#!/usr/bin/env python3
"""Run ffq over real code nobody here wrote (issue 8, part 2).

Usage: sweep.py FFQ_BINARY [--quick | --sample N] [--corpus NAME[,NAME]] [--timeout S]
                [--jobs J] [--keep DIR] [--verbose]

Corpora: `stdlib` (every .py of CPython's standard library, site-packages
excluded), `torch` (the installed torch package: the PyPI 2.13 wheel) and
`torchvision` (Debian's python3-torchvision). Each file is compiled with
`ffq autoquant FILE --module DOTTED.NAME -o OUT` and no --class, so every
nn.Module subclass is a root. Each run is classified:

  ok           exit 0 and the written output byte-compiles
  clean-error  exit 1 or 2, a diagnostic on stderr, nothing written
  crash        killed by a signal, an internal error, any other exit status
  sanitizer    an AddressSanitizer/UBSan/LeakSanitizer report on stderr
  hang         used up the per-file CPU-time limit (--timeout, CPU seconds), or
               blocked without using CPU for far longer (see limits.py)
  invalid      an output was written but is not valid Python (compile())
  partial      a failed run left an output file behind

The first two pass; the rest fail. Prints per-corpus counts (files, classes
converted, warnings, clean errors, failures), every failure with the first
lines of its stderr, and a last line `sweep: N passed, M failed`.

--quick runs a deterministic sample (every 10th file of each corpus);
--sample N every N-th file. --keep DIR copies each failing input there.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limits  # noqa: E402

SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|"
                       r"runtime error: |SUMMARY: (Address|Undefined|Leak)")
SUMMARY = re.compile(r"^ffq: wrote .*?: (\d+) class(?:es)? generated", re.M)
WARNING = re.compile(r"^[^\n]*:\d+:\d+: warning: |^[^\n:]+: warning: ", re.M)
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def site_of(pkg):
    """The directory holding the package `pkg`, without importing it (importing
    torch takes seconds and is not what we test)."""
    for d in sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]:
        if os.path.isdir(os.path.join(d, pkg)):
            return d
    return None


def corpora():
    stdlib = sysconfig.get_paths()["stdlib"]
    torch_site = site_of("torch")
    return {
        "stdlib": (stdlib, stdlib, ["site-packages", "dist-packages"]),
        "torch": (os.path.join(torch_site, "torch") if torch_site else None, torch_site, []),
        "torchvision": ("/usr/lib/python3/dist-packages/torchvision", "/usr/lib/python3/dist-packages", []),
    }


def enumerate_files(top, exclude):
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in exclude and d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith(".py"):
                out.append(os.path.join(dirpath, f))
    return out


def module_name(path, root):
    """pkg/sub/mod.py under root -> pkg.sub.mod (pkg/__init__.py -> pkg). Parts
    that are not identifiers (test data such as `bad-name.py`) are sanitised,
    so the sweep tests ffq and not the name we made up."""
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] == "__init__" and len(rel) > 1:
        rel.pop()
    parts = [p if IDENT.match(p) else "_" + re.sub(r"\W", "_", p) for p in rel]
    return ".".join(parts)


def valid_python(path):
    with open(path, "rb") as f:
        data = f.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, path, "exec", dont_inherit=True)
            return True, ""
        except (SyntaxError, ValueError) as e:
            return False, "%s: %s" % (type(e).__name__, e)


def run_one(ffq, path, mod, tmpdir, timeout, env):
    out = os.path.join(tmpdir, "out_%d_%d.py" % (os.getpid(), abs(hash(path))))
    if os.path.exists(out):
        os.unlink(out)
    cmd = [ffq, "autoquant", path, "--module", mod, "-o", out]
    # The limit is CPU time: a loaded machine slows the wall clock, not this.
    p = limits.run(cmd, cpu=timeout, env=env)
    secs = p.cpu
    if p.limit:
        if os.path.exists(out):
            os.unlink(out)
        return {"status": "hang", "detail": p.describe_limit(timeout), "secs": secs}
    err = p.stderr.decode("utf-8", "replace")
    res = {"secs": secs, "classes": 0, "warnings": len(WARNING.findall(err)), "rc": p.returncode}
    written = os.path.exists(out)
    if SANITIZER.search(err):
        res.update(status="sanitizer", detail=err)
    elif p.returncode < 0 or p.returncode not in (0, 1, 2) or "internal error" in err:
        res.update(status="crash", detail="exit %d\n%s" % (p.returncode, err))
    elif p.returncode != 0:
        if written:
            res.update(status="partial", detail="exit %d but %s was written\n%s" % (p.returncode, out, err))
        elif ": error:" not in err and "ffq: error" not in err:
            res.update(status="crash", detail="exit %d without an error message\n%s" % (p.returncode, err))
        else:
            res.update(status="clean-error", detail=err)
    elif not written:
        res.update(status="crash", detail="exit 0 but no output written\n" + err)
    else:
        ok, why = valid_python(out)
        m = SUMMARY.search(err)
        res["classes"] = int(m.group(1)) if m else 0
        if ok:
            res.update(status="ok", detail="")
        else:
            res.update(status="invalid", detail=why + "\n" + err)
            res["output"] = open(out, "rb").read()
    if written:
        os.unlink(out)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ffq")
    ap.add_argument("--quick", action="store_true", help="every 10th file")
    ap.add_argument("--sample", type=int, default=1, help="every N-th file")
    ap.add_argument("--corpus", default="stdlib,torch,torchvision")
    ap.add_argument("--timeout", type=float, default=20.0, help="CPU seconds per file")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="copy failing inputs (and invalid outputs) into this directory")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--slowest", type=int, default=5, help="list the N slowest files")
    a = ap.parse_args()
    ffq = os.path.abspath(a.ffq)
    every = 10 if a.quick else max(1, a.sample)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")

    all_corpora = corpora()
    jobs = []  # (corpus, path, module)
    for name in a.corpus.split(","):
        top, root, exclude = all_corpora[name]
        if not top or not os.path.isdir(top):
            print("sweep: corpus %s not found (%s); skipped" % (name, top), file=sys.stderr)
            continue
        files = enumerate_files(top, exclude)[::every]
        jobs += [(name, f, module_name(f, root)) for f in files]

    t0 = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="ffq-sweep-") as tmpdir:
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            futs = [pool.submit(run_one, ffq, f, m, tmpdir, a.timeout, env) for _, f, m in jobs]
            for job, fut in zip(jobs, futs):
                r = fut.result()
                results.append((job, r))
                if a.verbose:
                    print("%-11s %-12s %6.2fs %s" % (r["status"], job[0], r["secs"], job[1]), flush=True)
    wall = time.monotonic() - t0

    passing = ("ok", "clean-error")
    print("%-12s %7s %8s %8s %8s %8s %8s" % ("corpus", "files", "ok", "classes", "warnings", "errors", "FAILED"))
    for name in a.corpus.split(","):
        rs = [r for (c, _, _), r in results if c == name]
        if not rs:
            continue
        print("%-12s %7d %8d %8d %8d %8d %8d" % (
            name, len(rs), sum(r["status"] == "ok" for r in rs), sum(r.get("classes", 0) for r in rs),
            sum(r.get("warnings", 0) for r in rs), sum(r["status"] == "clean-error" for r in rs),
            sum(r["status"] not in passing for r in rs)))
    failed = [(j, r) for j, r in results if r["status"] not in passing]
    kinds = {}
    for _, r in failed:
        kinds[r["status"]] = kinds.get(r["status"], 0) + 1
    if kinds:
        print("failures by kind: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    for (c, f, m), r in failed:
        print("\nFAIL [%s] %s (--module %s)" % (r["status"], f, m))
        print("\n".join("    " + l for l in r["detail"].splitlines()[:12]))
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            base = re.sub(r"\W", "_", os.path.relpath(f, "/"))
            shutil.copy(f, os.path.join(a.keep, base + ".py"))
            if "output" in r:
                with open(os.path.join(a.keep, base + ".out.py"), "wb") as fp:
                    fp.write(r["output"])
    slow = sorted(results, key=lambda jr: -jr[1]["secs"])[:a.slowest]
    if slow:
        print("\nslowest (CPU time): " + ", ".join("%s %.2fs" % (os.path.relpath(j[1], "/"), r["secs"]) for j, r in slow))
    print("time: %.1fs wall, %d jobs" % (wall, a.jobs))
    print("sweep: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

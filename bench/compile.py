#!/usr/bin/env python3
"""Compile-speed benchmark (issue 8): ffq's full autoquant pipeline against a
parse-only pass through the same library, and against CPython's
ast.parse + ast.unparse round trip, on the same files.

Usage: compile.py DRIVER [--corpus DIR...] [--repeat N] [--jobs J] [--scaling MB,MB,...]

DRIVER is bench/ffq_bench_compile (compile_driver.c, linked against libffq).
A row "tree-sitter alone" (the grammar without source.c's flattening) is
shown for reference; it is not part of the ratios.
Corpus (default): every .py file of the installed torch package (the PyPI
2.13 wheel) and of Debian's torchvision; files CPython cannot parse are left
out so the three measurements see the same bytes. Whole-corpus runs split the
files into J (default 2) halves of about equal size, one process each (both
cores); the time of a run is the slowest worker's processing loop (file
reading and process start excluded, as in the driver), measured as the
worker's CPU time (user + system) so that a busy machine skews every pass
alike as little as possible. Best of N (default 3).
The single largest file is measured in one process, and its full-pipeline
peak RSS is the memory figure.

Scaling (issue 18): corpus files that ffq parses, in a fixed shuffled order
(repeated when the corpus is smaller), concatenated as they are, nothing
renamed, into single files of 1, 5, 20 and 50 MB (--scaling); each goes
through the full pipeline in one process, best of N, with its peak RSS.

The last line is the summary:
  compile: pipeline_vs_parse=R1 vs_python_roundtrip=R2 peak_mb=M
           scaling_mb_per_s_50mb_vs_1mb=R3 peak_mb_50mb=M2
R1 = full-pipeline MB/s over parse-only MB/s (target >= 0.6), R2 = ffq MB/s
over CPython's round-trip MB/s (target >= 1.5), both over the corpus; M = peak
resident MB of the full pipeline on the largest file (target < 100); R3 = the
full pipeline's MB/s on the largest scaling input over its MB/s on the
smallest (1.0 is linear time; target >= 0.8); M2 = peak resident MB on the
largest scaling input (target <= 30 x its size + 50 MB).
"""
import argparse
import ast
import multiprocessing
import random
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings


def default_corpus():
    dirs = []
    for d in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]):
        if os.path.isdir(os.path.join(d, "torch")):
            dirs.append(os.path.join(d, "torch"))
            break
    if os.path.isdir("/usr/lib/python3/dist-packages/torchvision"):
        dirs.append("/usr/lib/python3/dist-packages/torchvision")
    return dirs


def py_files(dirs):
    out = []
    for top in dirs:
        for dp, dn, fn in os.walk(top):
            dn.sort()
            out += [os.path.join(dp, f) for f in sorted(fn) if f.endswith(".py")]
    return out


def cpython_parses(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(open(path, "rb").read())
            return True
        except Exception:
            return False


def split(files, sizes, n):
    """n lists of about equal total size (largest first, into the lightest)."""
    parts = [[] for _ in range(n)]
    load = [0] * n
    for f in sorted(files, key=lambda f: -sizes[f]):
        i = load.index(min(load))
        parts[i].append(f)
        load[i] += sizes[f]
    return parts


def run_driver(driver, mode, parts, tmp):
    procs = []
    for i, part in enumerate(parts):
        lst = os.path.join(tmp, "list-%d" % i)
        with open(lst, "w") as f:
            f.write("\n".join(part) + "\n")
        procs.append(subprocess.Popen([driver, mode, lst], stdout=subprocess.PIPE))
    res = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            sys.exit("driver failed (%s)" % mode)
        res.append(dict(kv.split("=") for kv in out.decode().split()))
    return max(float(r["secs"]) for r in res), max(int(r["maxrss_kb"]) for r in res), sum(int(r["ok"]) for r in res)


def roundtrip_worker(paths):
    sys.setrecursionlimit(100000)
    data = [open(p, "rb").read() for p in paths]
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in data:
            ast.unparse(ast.parse(d))
    return time.process_time() - t0


def scaling_inputs(driver, files, sizes, mbs, tmp):
    """One concatenated file per size in mbs: {mb: path}."""
    lst = os.path.join(tmp, "list-syntax")
    with open(lst, "w") as f:
        f.write("\n".join(files) + "\n")
    out = subprocess.run([driver, "syntax", lst], stdout=subprocess.PIPE, check=True).stdout.decode()
    bad = {line[len("failed "):] for line in out.splitlines() if line.startswith("failed ")}
    good = [f for f in files if f not in bad]
    random.Random(18).shuffle(good)
    paths = {}
    for mb in mbs:
        want, parts, have, i = int(mb * 1e6), [], 0, 0
        while have < want:
            with open(good[i % len(good)], "rb") as f:
                data = f.read()
            if not data.endswith(b"\n"):
                data += b"\n"
            parts.append(data)
            have += len(data)
            i += 1
        paths[mb] = os.path.join(tmp, "scaling-%gmb.py" % mb)
        with open(paths[mb], "wb") as f:
            f.write(b"".join(parts))
    return paths, len(bad)


def run_python(parts):
    with multiprocessing.Pool(len(parts)) as pool:
        return max(pool.map(roundtrip_worker, parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("driver")
    ap.add_argument("--corpus", nargs="*", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scaling", default="1,5,20,50",
                    help="sizes in MB of the concatenated scaling inputs ('' for none)")
    a = ap.parse_args()
    mbs = [float(x) for x in a.scaling.split(",") if x.strip()]
    driver = os.path.abspath(a.driver)
    files = [f for f in py_files(a.corpus or default_corpus()) if cpython_parses(f)]
    if not files:
        sys.exit("no corpus files")
    sizes = {f: os.path.getsize(f) for f in files}
    total = sum(sizes.values())
    largest = max(files, key=lambda f: sizes[f])
    mb = total / 1e6
    print("corpus: %d files, %.1f MB (%s); largest: %s (%.2f MB)" % (
        len(files), mb, ", ".join(a.corpus or default_corpus()), largest, sizes[largest] / 1e6))
    parts = split(files, sizes, a.jobs)

    rows = []
    with tempfile.TemporaryDirectory(prefix="ffq-bench-") as tmp:
        # The passes take turns within each repetition (best of N each), so a
        # change in machine load does not favour the pass measured last.
        passes = {
            "ts": lambda: run_driver(driver, "ts", parts, tmp),
            "parse": lambda: run_driver(driver, "parse", parts, tmp),
            "full": lambda: run_driver(driver, "full", parts, tmp),
            "py": lambda: (run_python(parts), None, None),
            "l-ts": lambda: run_driver(driver, "ts", [[largest]], tmp),
            "l-parse": lambda: run_driver(driver, "parse", [[largest]], tmp),
            "l-full": lambda: run_driver(driver, "full", [[largest]], tmp),
            "l-py": lambda: (run_python([[largest]]), None, None),
        }
        scaled, nbad = scaling_inputs(driver, files, sizes, mbs, tmp) if mbs else ({}, 0)
        for mb, path in scaled.items():
            passes["s-%g" % mb] = lambda path=path: run_driver(driver, "full", [[path]], tmp)
        res = {}
        for _ in range(a.repeat):
            for k, fn in passes.items():
                r = fn()
                if k not in res or r[0] < res[k][0]:
                    res[k] = r
        scaled_mb = {mb: os.path.getsize(path) / 1e6 for mb, path in scaled.items()}
        ts_s, ts_rss, _ = res["ts"]
        parse_s, parse_rss, parse_ok = res["parse"]
        full_s, full_rss, full_ok = res["full"]
        py_s = res["py"][0]
        rows.append(("corpus, %d workers" % a.jobs, "tree-sitter alone", mb / ts_s, ts_s, ts_rss))
        rows.append(("", "ffq parse-only", mb / parse_s, parse_s, parse_rss))
        rows.append(("", "ffq full pipeline", mb / full_s, full_s, full_rss))
        rows.append(("", "CPython parse+unparse", mb / py_s, py_s, None))
        lmb = sizes[largest] / 1e6
        lt_s, lt_rss, _ = res["l-ts"]
        lp_s, lp_rss, _ = res["l-parse"]
        lf_s, lf_rss, _ = res["l-full"]
        lpy_s = res["l-py"][0]
        rows.append(("largest file, 1 worker", "tree-sitter alone", lmb / lt_s, lt_s, lt_rss))
        rows.append(("", "ffq parse-only", lmb / lp_s, lp_s, lp_rss))
        rows.append(("", "ffq full pipeline", lmb / lf_s, lf_s, lf_rss))
        rows.append(("", "CPython parse+unparse", lmb / lpy_s, lpy_s, None))
        for mb in scaled:
            s_s, s_rss, s_ok = res["s-%g" % mb]
            rows.append(("scaling, %g MB, 1 worker" % mb if mb == mbs[0] else "scaling, %g MB" % mb,
                         "ffq full pipeline" if s_ok else "ffq full pipeline (!)", scaled_mb[mb] / s_s, s_s, s_rss))

    print()
    print("%-24s %-22s %9s %9s %9s" % ("input", "pass", "MB/s", "seconds", "peak MB"))
    for where, what, rate, secs, rss in rows:
        print("%-24s %-22s %9.2f %9.3f %9s" % (where, what, rate, secs, "%.1f" % (rss / 1024) if rss else "-"))
    print("(full pipeline compiled %d of %d files without errors; parse-only: %d)" % (full_ok, len(files), parse_ok))
    if scaled:
        print("(scaling inputs: corpus files concatenated, %d files ffq cannot parse left out; "
              "(!) marks an input with errors)" % nbad)
    r1 = parse_s / full_s
    r2 = py_s / full_s
    peak = lf_rss / 1024
    print("targets: pipeline_vs_parse >= 0.6: %s; vs_python_roundtrip >= 1.5: %s; peak_mb < 100: %s" % (
        "met" if r1 >= 0.6 else "MISSED", "met" if r2 >= 1.5 else "MISSED", "met" if peak < 100 else "MISSED"))
    line = "compile: pipeline_vs_parse=%.2f vs_python_roundtrip=%.2f peak_mb=%.1f" % (r1, r2, peak)
    if len(scaled) >= 2:
        lo, hi = min(scaled), max(scaled)
        lo_mb, hi_mb = scaled_mb[lo], scaled_mb[hi]
        r3 = (hi_mb / res["s-%g" % hi][0]) / (lo_mb / res["s-%g" % lo][0])
        m2 = res["s-%g" % hi][1] / 1024
        print("scaling targets: %g MB vs %g MB throughput >= 0.8: %s; peak <= 30 x %.0f MB + 50 MB: %s" % (
            hi, lo, "met" if r3 >= 0.8 else "MISSED", hi_mb, "met" if m2 <= 30 * hi_mb + 50 else "MISSED"))
        line += " scaling_mb_per_s_%gmb_vs_%gmb=%.2f peak_mb_%gmb=%.1f" % (hi, lo, r3, hi, m2)
    print(line)


if __name__ == "__main__":
    main()

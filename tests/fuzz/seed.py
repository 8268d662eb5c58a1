#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into OUT/{compile,optable,pattern,format}.

Usage: seed.py REPO_ROOT OUT

compile: every tests/cases/**/*.py and examples/*.py.
format: the same, the snapshots (generated code) and tests/format/cases/**.
optable: optable/*.yaml, tests/optable/*.yaml, tests/cases/**/tables/*.yaml.
pattern: every `--replace 'RULE'` of the cases and every rule listed in a
table, alone and followed by a NUL byte and a case file; plus a few rules
written here for the corners of the rule syntax.
"""
import glob
import os
import re
import sys

EXTRA_RULES = [
    "torch.relu({x})=>torch.sigmoid({x})",
    "{a} + {b}=>torch.add({a}, {b})",
    "x = {a}=>x = {a}; y = {a}",
    "torch.nn.functional.{f}({a}, {b})=>my.{f}({a}, {b})",
    "f('=>', {a})=>g({a})",
    "[{a}, {b}]=>({b}, {a})",
    "{a}=>{a}",
    "=>",
    "{=>}",
    "a=>b=>c",
]


def main():
    root, out = sys.argv[1], sys.argv[2]
    for d in ("compile", "optable", "pattern", "format"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    cases = sorted(glob.glob(os.path.join(root, "tests/cases/**/*.py"), recursive=True))
    cases += sorted(glob.glob(os.path.join(root, "examples/*.py")))
    tables = sorted(glob.glob(os.path.join(root, "optable/*.yaml")))
    tables += sorted(glob.glob(os.path.join(root, "tests/optable/*.yaml")))
    tables += sorted(glob.glob(os.path.join(root, "tests/cases/**/*.yaml"), recursive=True))

    def put(kind, i, data):
        with open(os.path.join(out, kind, "seed-%04d" % i), "wb") as f:
            f.write(data)

    rules = list(EXTRA_RULES)
    for i, p in enumerate(cases):
        data = open(p, "rb").read()
        put("compile", i, data)
        rules += re.findall(r"--replace '([^']*)'", data.decode("utf-8", "replace"))
    for i, p in enumerate(tables):
        data = open(p, "rb").read()
        put("optable", i, data)
        rules += re.findall(r'^\s*-\s*"([^"]*=>[^"]*)"', data.decode("utf-8", "replace"), re.M)
    fmt = cases + sorted(glob.glob(os.path.join(root, "snapshots/**/*.py"), recursive=True))
    fmt += sorted(p for p in glob.glob(os.path.join(root, "tests/format/cases/**"), recursive=True)
                  if os.path.isfile(p))
    for i, p in enumerate(fmt):
        put("format", i, open(p, "rb").read())
    rules = sorted(set(rules))
    n = 0
    for k, r in enumerate(rules):
        put("pattern", n, r.encode())
        n += 1
        src = open(cases[k % len(cases)], "rb").read() if cases else b""
        put("pattern", n, r.encode() + b"\0" + src)
        n += 1
    print("seeds: %d compile, %d optable, %d pattern, %d format" % (len(cases), len(tables), n, len(fmt)))


if __name__ == "__main__":
    main()

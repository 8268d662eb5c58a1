#!/usr/bin/env python3
"""The documentation a user of the repository can read is all there.

Usage: docs_test.py SOURCE_ROOT

* Every section cited in the code as `§N` or `§N.M` (in src/, tests/,
  runtime/, tools/ and bench/) is a heading with that number in docs/
  (`## N. Title` or `### N.M Title`).
* Every relative link in README.md and docs/*.md names a file or directory
  of the repository, and nothing tracked by git points outside it
  (`../shared`, `/work/`).
Last line: `docs: N passed, M failed`.
"""
import os
import re
import subprocess
import sys

CITE = re.compile(r"§(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", re.M)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
OUTSIDE = re.compile(r"\.\./shared|/work/(?:shared|main|wt)")
SCAN = ("src", "tests", "runtime", "tools", "bench")


def tracked(root):
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, stdout=subprocess.PIPE, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: docs_test.py SOURCE_ROOT")
    root = os.path.abspath(sys.argv[1])
    try:
        files = tracked(root)
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        files = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root)
                 if "/build" not in d and "/.git" not in d for f in fs]
    docs = sorted(f for f in files if f.startswith("docs/") and f.endswith(".md"))
    headings = {}
    for f in docs:
        with open(os.path.join(root, f), encoding="utf-8") as fp:
            for num in HEADING.findall(fp.read()):
                headings.setdefault(num, f)
    passed = failed = 0

    def report(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL  " + what)

    cited = {}
    for f in files:
        if not f.startswith(tuple(d + "/" for d in SCAN)) or f.startswith("tests/cases/"):
            continue
        try:
            with open(os.path.join(root, f), encoding="utf-8") as fp:
                text = fp.read()
        except (UnicodeDecodeError, OSError):
            continue
        for num in CITE.findall(text):
            cited.setdefault(num, f)
    report(len(cited) > 10, "found only %d cited sections: is the scan broken?" % len(cited))
    for num, where in sorted(cited.items(), key=lambda kv: [int(p) for p in kv[0].split(".")]):
        report(num in headings, "§%s (cited in %s) is no heading in docs/" % (num, where))

    for f in ["README.md"] + docs:
        with open(os.path.join(root, f), encoding="utf-8") as fp:
            text = fp.read()
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # a URL
            path = os.path.normpath(os.path.join(root, os.path.dirname(f), target))
            inside = path == root or path.startswith(root + os.sep)
            report(inside and os.path.exists(path), "%s links to %s, which is not in the repository" % (f, target))
    for f in files:
        if f == "tests/docs_test.py":
            continue
        try:
            with open(os.path.join(root, f), encoding="utf-8") as fp:
                text = fp.read()
        except (UnicodeDecodeError, OSError):
            continue
        m = OUTSIDE.search(text)
        report(m is None, "%s points outside the repository: %r" % (f, m.group(0) if m else ""))
    print("%d sections cited, %d headings in %s" % (len(cited), len(headings), ", ".join(docs)))
    print("docs: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

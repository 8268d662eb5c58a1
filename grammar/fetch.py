#!/usr/bin/env python3
"""Fetch the pinned tree-sitter sources listed in grammar/pins.txt.

Usage: fetch.py OUTDIR

Downloads each pinned sdist with `pip download --no-binary :all: --no-deps
--require-hashes`, unpacks the C sources ffq needs into OUTDIR, and prints
nothing on success. Idempotent: a stamp file records the pins that produced
OUTDIR, so a second run with unchanged pins does no network access.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PINS = os.path.join(HERE, "pins.txt")
EXT_ENUM = re.compile(rb"enum ts_external_scanner_symbol_identifiers \{(.*?)\};", re.S)


def pin_lines():
    with open(PINS, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


def download(line, dest):
    req = os.path.join(dest, "req.txt")
    with open(req, "w", encoding="utf-8") as f:
        f.write(line + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
           "--no-deps", "--require-hashes", "--disable-pip-version-check", "-r", req, "-d", dest]
    # Under `pip install .` this runs inside pip's isolated build environment,
    # whose PYTHONPATH hides the interpreter's own site-packages (and pip with
    # them); pip download needs none of that environment.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONNOUSERSITE")}
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if res.returncode != 0:
        sys.exit("grammar/fetch.py: pip download failed for %r:\n%s" % (line, res.stdout))
    tars = [n for n in os.listdir(dest) if n.endswith(".tar.gz")]
    if len(tars) != 1:
        sys.exit("grammar/fetch.py: expected one sdist for %r, got %r" % (line, tars))
    return os.path.join(dest, tars[0])


def extract(tar_path, members, out):
    """Copy the archive entries whose path (after the top folder) starts with a prefix in members."""
    with tarfile.open(tar_path) as tf:
        for m in tf.getmembers():
            rel = m.name.split("/", 1)[1] if "/" in m.name else ""
            for prefix, target in members:
                if m.isfile() and rel.startswith(prefix):
                    rest = rel[len(prefix):]
                    dst = os.path.join(out, target, rest) if rest else os.path.join(out, target)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    with tf.extractfile(m) as src, open(dst, "wb") as f:
                        shutil.copyfileobj(src, f)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fetch.py OUTDIR")
    out = os.path.abspath(sys.argv[1])
    lines = pin_lines()
    stamp_text = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    stamp = os.path.join(out, ".stamp")
    if os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == stamp_text:
        return
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with tempfile.TemporaryDirectory() as tmp:
        tars = []
        for i, line in enumerate(lines):
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            tars.append(download(line, d))
        runtime, grammar, scanner_src = tars
        extract(runtime, [("tree_sitter/core/lib/", "tree-sitter/")], out)
        extract(grammar, [("src/", "tree-sitter-python/src/")], out)
        extract(scanner_src, [("src/scanner.c", "tree-sitter-python/src/scanner.c")], out)
        with tarfile.open(scanner_src) as tf:
            old_parser = next(m for m in tf.getmembers() if m.name.endswith("/src/parser.c"))
            old_enum = EXT_ENUM.search(tf.extractfile(old_parser).read())
    # The scanner must agree with the parser on the external tokens it produces.
    with open(os.path.join(out, "tree-sitter-python/src/parser.c"), "rb") as f:
        new_enum = EXT_ENUM.search(f.read())
    if not new_enum or not old_enum or new_enum.group(1) != old_enum.group(1):
        shutil.rmtree(out)
        sys.exit("grammar/fetch.py: the pinned scanner.c and parser.c disagree on external tokens")
    for need in ("tree-sitter/src/lib.c", "tree-sitter/include/tree_sitter/api.h",
                 "tree-sitter-python/src/scanner.c"):
        if not os.path.exists(os.path.join(out, need)):
            sys.exit("grammar/fetch.py: %s missing from the fetched sources" % need)
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(stamp_text)


if __name__ == "__main__":
    main()

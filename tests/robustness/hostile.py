#!/usr/bin/env python3
"""Hostile input (issue 8, part 3): inputs and output paths that try to break ffq.

Usage: hostile.py FFQ_BINARY [-k SUBSTRING]

Every test generates its input in a fresh temporary directory, runs
`ffq autoquant`, and checks that ffq either gives a correct result (exit 0 and
an output that byte-compiles) or a clear message (exit 1 or 2 with an
`error:` line on stderr), and never: crashes, reports a sanitizer error, runs
past the time limit, or leaves a partial output or a stray temporary file.
Some tests demand one of the two outcomes specifically.

Ends with `hostile: N passed, M failed`.
"""
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limits  # noqa: E402

# Timing bounds hold for normal builds; sanitizer builds run several times slower.
SLOW = 4 if os.environ.get("FFQ_SANITIZED") == "1" else 1

FFQ = None
TIMEOUT = 60  # CPU seconds per run (limits.py: a busy machine cannot make a run "hang")
SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: (Address|Undefined|Leak)")

HEADER = "import torch\nimport torch.nn.functional as F\n\n\n"
MODEL = HEADER + """class M(torch.nn.Module):
    def forward(self, x):
        return F.relu(x) + torch.sigmoid(x)
"""


class Fail(Exception):
    pass


def check(cond, what, res=None):
    if not cond:
        extra = ""
        if res is not None:
            extra = "\n    exit %s; stderr: %s" % (res.rc, res.err[-1500:].replace("\n", "\n      "))
        raise Fail(what + extra)


class Result:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs


MEMORY_LIMIT = 4 << 30  # a quadratic blow-up must fail this test, not the machine
ASAN = False


def limited(preexec):
    def pre():
        if not ASAN:  # ASan reserves terabytes of address space; it gets hard_rss_limit_mb
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        if preexec:
            preexec()
    return pre


def run(args, cwd, preexec=None, timeout=None):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:hard_rss_limit_mb=%d" % (MEMORY_LIMIT >> 20))
    cpu = (timeout or TIMEOUT) * SLOW
    p = limits.run([FFQ] + args, cpu=cpu, cwd=cwd, preexec=limited(preexec), env=env)
    if p.limit:
        raise Fail(p.describe_limit(cpu))
    # secs: CPU time, which the timing checks below bound (wall time measures the machine).
    r = Result(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), p.cpu)
    check(not SANITIZER.search(r.err), "sanitizer report", r)
    check(r.rc in (0, 1, 2), "crash (exit %d)" % r.rc, r)
    check("internal error" not in r.err, "internal error", r)
    return r


def compiles(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, "<output>", "exec", dont_inherit=True)
            return True
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False


def write(d, name, data):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def stray_temps(d):
    return [f for f in os.listdir(d) if f.startswith(".ffq-")]


def autoquant(d, source, args=(), name="m.py", timeout=None):
    """Runs ffq on `source` with -o out.py; returns (Result, output bytes or None)."""
    write(d, name, source)
    out = os.path.join(d, "out.py")
    if os.path.exists(out):
        os.unlink(out)
    r = run(["autoquant", name, "-o", "out.py"] + list(args), d, timeout=timeout)
    check(not stray_temps(d), "temporary file left behind: %s" % stray_temps(d), r)
    written = open(out, "rb").read() if os.path.exists(out) else None
    if r.rc == 0:
        check(written is not None, "exit 0 but no output file", r)
        check(compiles(written), "output is not valid Python", r)
    else:
        check(written is None, "failed run (exit %d) left an output file" % r.rc, r)
        check("error:" in r.err, "exit %d without an error message" % r.rc, r)
    return r, written


def classes_in(out):
    return len(re.findall(r"^class Quantized\w+\(", (out or b"").decode("utf-8", "replace"), re.M))


def correct(d, source, nclasses=None, **kw):
    """Demands a correct result: exit 0, valid output, with nclasses classes."""
    r, out = autoquant(d, source, **kw)
    check(r.rc == 0, "expected a result, got exit %d" % r.rc, r)
    if nclasses is not None:
        check(classes_in(out) == nclasses, "expected %d generated classes, got %d" % (nclasses, classes_in(out)), r)
    return r, out


def clean_error(d, source, pattern=None, **kw):
    r, _ = autoquant(d, source, **kw)
    check(r.rc in (1, 2), "expected an error, got exit %d" % r.rc, r)
    if pattern:
        check(re.search(pattern, r.err), "message does not match %r" % pattern, r)
    return r


# --- degenerate files ---

def test_empty_file(d):
    r, _ = correct(d, "", nclasses=0)
    check("no-modules" in r.err, "no [no-modules] warning for an empty file", r)


def test_only_comments(d):
    correct(d, "# a comment\n#another\n\n   # indented comment\n# no newline at the end", nclasses=0)


def test_only_a_docstring_and_blank_lines(d):
    correct(d, '"""doc"""\n\n\n\n', nclasses=0)


def test_non_utf8_in_comment(d):
    autoquant(d, MODEL.encode() + b"# caf\xe9 latin-1 \xff\xfe\n")


def test_non_utf8_in_string_inside_forward(d):
    src = HEADER.encode() + b"class M(torch.nn.Module):\n    def forward(self, x):\n        s = '\xe9\xff'\n        return torch.relu(x)\n"
    autoquant(d, src)


def test_non_utf8_identifier(d):
    src = HEADER.encode() + b"class M\xe9(torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x)\n"
    autoquant(d, src)


def test_nul_bytes(d):
    autoquant(d, MODEL.encode() + b"x = 1\x00\x00\n" + MODEL.encode().replace(b"class M", b"class N"))


def test_utf8_bom(d):
    _, out = correct(d, "\ufeff" + MODEL, nclasses=1)
    check(out.count(b"\xef\xbb\xbf") <= 1 and b"\xef\xbb\xbf" not in out[3:], "BOM copied into the middle of the output")


def test_utf8_identifiers_and_strings(d):
    src = HEADER + "class Modèle(torch.nn.Module):\n    def forward(self, x, ü='é'):\n        return torch.relu(x)  # ça\n"
    correct(d, src, nclasses=1)


def test_crlf_line_endings(d):
    src = MODEL.replace("\n", "\r\n") + "class N(torch.nn.Module):\r\n    def forward(self, x):\r\n        y = torch.relu(x)\r\n        return y\r\n"
    correct(d, src, nclasses=2)


def test_lone_cr_line_endings(d):
    autoquant(d, MODEL.replace("\n", "\r"))


def test_mixed_line_endings(d):
    src = HEADER + "class M(torch.nn.Module):\r\n    def forward(self, x):\n        y = torch.relu(x)\r\n        return y\n"
    correct(d, src, nclasses=1)


def test_tabs(d):
    src = HEADER + "class M(torch.nn.Module):\n\tdef forward(self, x):\n\t\tif x.dim() == 2:\n\t\t\tx = torch.relu(x)\n\t\treturn F.linear(x, self.weight)\n"
    correct(d, src, nclasses=1)


def test_form_feed_and_trailing_whitespace(d):
    correct(d, HEADER + "\f\nclass M(torch.nn.Module):   \n    def forward(self, x):    \n        return torch.relu(x)   \n", nclasses=1)


def test_no_trailing_newline(d):
    correct(d, MODEL.rstrip("\n"), nclasses=1)


# --- size ---

def test_long_line_1mb_list(d):
    items = ", ".join(["1"] * 350000)  # ~1 MB
    src = HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        t = [" + items + "]\n        return torch.relu(x) + t[0]\n"
    correct(d, src, nclasses=1)


def test_long_line_1mb_string(d):
    src = HEADER + "S = '" + "a" * (1 << 20) + "'\n" + MODEL
    correct(d, src, nclasses=1)


def test_long_line_1mb_expression_in_forward(d):
    expr = " + ".join(["x"] * 250000)  # ~1 MB of rewritten operators
    src = HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return " + expr + "\n"
    autoquant(d, src)


def test_10000_classes(d):
    parts = [HEADER]
    for i in range(10000):
        parts.append("class M%d(torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x) + %d\n\n\n" % (i, i))
    r, _ = correct(d, "".join(parts), nclasses=10000)
    check(r.secs < 60 * SLOW, "10,000 classes took %.1fs of CPU" % r.secs, r)


def test_3000_helpers_in_a_chain(d):
    n = 3000
    parts = [HEADER, "def h0(x):\n    return torch.relu(x)\n\n\n"]
    for i in range(1, n):
        parts.append("def h%d(x):\n    return h%d(x) + 1\n\n\n" % (i, i - 1))
    parts.append("class M(torch.nn.Module):\n    def forward(self, x):\n        return h%d(x)\n" % (n - 1))
    r, _ = correct(d, "".join(parts), nclasses=1, timeout=60)
    check(r.secs < 20 * SLOW, "3,000 helpers took %.1fs of CPU" % r.secs, r)


def test_one_forward_of_20000_statements(d):
    # One long body (generated or unrolled code): many names, module state reads, branches,
    # loops and comprehensions. The flow analysis copied and joined an environment of every
    # name at each branch, and walked the body once per state read: minutes and gigabytes.
    n = 20000
    parts = [HEADER, "class M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"]
    parts += ["        self.w%d = torch.nn.Parameter(torch.randn(4))\n" % i for i in range(50)]
    parts.append("    def forward(self, x):\n")
    for i in range(n):
        parts.append("        y%d = torch.relu(x + self.w%d)\n" % (i, i % 50))
        if i % 100 == 0:
            parts.append("        if y%d.sum() > 0:\n            x = x + y%d\n        else:\n"
                         "            x = x * 2\n" % (i, i))
        if i % 500 == 0:
            parts.append("        for k in range(2):\n            x = torch.sigmoid(x) + k\n"
                         "        z%d = [torch.tanh(v) for v in (x, y%d)]\n" % (i, i))
    parts.append("        return x\n")
    r, out = correct(d, "".join(parts), nclasses=1, timeout=60)
    check(out.count(b"fastforward.nn.functional.relu(") == n, "not every statement was rewritten", r)
    check(r.secs < 20 * SLOW, "20,000 statements in one forward took %.1fs of CPU" % r.secs, r)


def test_branches_rebinding_one_name(d):
    # `if c: x = f(x)` repeated, an elif chain, except clauses and loop breaks, each binding x
    # anew: x reaches the joins with one producer per branch so far. The joins compared each
    # producer of one side with every producer of the other (cubic: 8,000 such ifs took 28 s of
    # CPU) and joined n branches one after another, copying the growing list n times (an elif
    # chain of 16,000 branches: 2 GB). (Python's own compiler recurses into elif chains and
    # except clauses: those stay short enough for the output to byte-compile.)
    n, m = 5000, 800
    lines = [HEADER, "class M(torch.nn.Module):\n    def __init__(self, k=0):\n        super().__init__()\n",
             "        self.k = k\n        self.lin = torch.nn.Linear(4, 4)\n\n    def forward(self, x):\n"]
    lines += ["        if self.k == %d:\n            x = self.lin(x) * %d\n" % (i, i) for i in range(n)]
    lines.append("        if self.k == -1:\n            x = x + 1\n")
    lines += ["        elif self.k == %d:\n            x = self.lin(x) - %d\n" % (i, i) for i in range(m)]
    lines.append("        try:\n            x = self.lin(x)\n")
    lines += ["        except E%d:\n            x = self.lin(x) + %d\n" % (i, i) for i in range(m)]
    lines.append("        for i in range(2):\n")
    lines += ["            if self.k == %d:\n                x = self.lin(x) / %d\n                break\n" % (i, i + 1)
              for i in range(n)]
    lines.append("        return x\n")
    r, out = correct(d, "".join(lines), nclasses=1, timeout=60)
    check(out.count(b"output_quantizer=") == 2 * n + 2 * m + 1, "not every op was rewritten", r)
    check(r.secs < 6 * SLOW, "%d ifs and loop breaks, %d elifs and excepts took %.1fs of CPU" % (n, m, r.secs), r)


# --- nesting: tree-sitter and ffq must not overflow the stack ---

def nested_parens(depth):
    return HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return " + "(" * depth + "torch.relu(x)" + ")" * depth + "\n"


def nested_calls(depth):
    return HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return " + "torch.relu(" * depth + "x" + ")" * depth + "\n"


def nested_lists(depth):
    return HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        y = " + "[" * depth + "x" + "]" * depth + "\n        return torch.relu(x)\n"


def nested_blocks(depth, kw="if x:"):
    lines = ["class M(torch.nn.Module):", "    def forward(self, x):"]
    for i in range(depth):
        lines.append("    " * (i + 2) + kw)
    lines.append("    " * (depth + 2) + "x = torch.relu(x)")
    lines.append("        return x")
    return HEADER + "\n".join(lines) + "\n"


def nested_defs(depth):
    lines = ["class M(torch.nn.Module):", "    def forward(self, x):"]
    for i in range(depth):
        lines.append("    " * (i + 2) + "def f%d(x):" % i)
    lines.append("    " * (depth + 2) + "return torch.relu(x)")
    lines.append("        return torch.relu(x)")
    return HEADER + "\n".join(lines) + "\n"


def nested_classes(depth):
    lines = ["class M(torch.nn.Module):"]
    for i in range(depth):
        lines.append("    " * (i + 1) + "class C%d(torch.nn.Module):" % i)
    lines.append("    " * (depth + 1) + "def forward(self, x):\n" + "    " * (depth + 2) + "return torch.relu(x)")
    lines.append("    def forward(self, x):\n        return torch.relu(x)")
    return HEADER + "\n".join(lines) + "\n"


def nesting(d, src, cpython_ok, timeout=None):
    # CPython refuses more than 200 nested brackets and 100 indentation
    # levels, so an input deeper than that may be refused, or copied as is
    # into an output CPython refuses too (that output is not checked); at a
    # depth CPython accepts, the result must be correct.
    if cpython_ok:
        correct(d, src, nclasses=1, timeout=timeout)
        return
    write(d, "m.py", src)
    r = run(["autoquant", "m.py", "-o", "out.py"], d, timeout=timeout)
    check(not stray_temps(d), "temporary file left behind", r)
    check(r.rc == 0 or "error:" in r.err, "exit %d without a message" % r.rc, r)


def test_nesting_parens_90(d): nesting(d, nested_parens(90), True)
def test_nesting_parens_500(d): nesting(d, nested_parens(500), False)
def test_nesting_calls_90(d): nesting(d, nested_calls(90), True)
def test_nesting_calls_500(d): nesting(d, nested_calls(500), False)
def test_nesting_lists_500(d): nesting(d, nested_lists(500), False)
def test_nesting_if_blocks_60(d): nesting(d, nested_blocks(60), True)


def test_indentation_wider_than_255_columns(d):
    # Valid Python (66 levels of 4 spaces, 264 columns): tree-sitter-python
    # keeps indent widths in a byte, so source.c parses a copy with the widths
    # renumbered. The result must be correct, here and up to CPython's limit.
    r, out = correct(d, nested_blocks(64), nclasses=1)
    check(out.count(b"if x:") == 64, "the nested ifs were not all kept", r)
    correct(d, nested_blocks(96), nclasses=1)
    correct(d, nested_blocks(80).replace("    ", "   "), nclasses=1)  # 3-space indents: 246 columns
    tabs = nested_blocks(40).replace("    ", "\t")  # 42 tabs: 336 columns
    correct(d, tabs, nclasses=1)
def test_nesting_if_blocks_500(d): nesting(d, nested_blocks(500), False)
def test_nesting_for_blocks_500(d): nesting(d, nested_blocks(500, "for x in x:"), False)
def test_nesting_with_blocks_500(d): nesting(d, nested_blocks(500, "with x:"), False)
def test_nesting_try_500(d): nesting(d, nested_blocks(500, "try:").replace("        return x", "        return x\n" + "".join("    " * (i + 2) + "except E:\n" + "    " * (i + 3) + "pass\n" for i in reversed(range(500)))), False)
def test_nesting_defs_500(d): nesting(d, nested_defs(500), False)
def test_nesting_classes_500(d): nesting(d, nested_classes(500), False)
# CPython cannot compile a 3000-term sum either (RecursionError during compilation).
def test_nesting_binary_ops_20000(d): nesting(d, HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return " + " + ".join(["x"] * 20000) + "\n", False)
def test_nesting_unary_ops_5000(d): nesting(d, HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return " + "-" * 5000 + "x\n", False)
def test_nesting_attribute_chain_20000(d): nesting(d, HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x" + ".t()" * 20000 + ")\n", False)
def test_nesting_parens_5000(d): nesting(d, nested_parens(5000), False)
def test_nesting_if_blocks_3000(d): nesting(d, nested_blocks(3000), False)


def nested_loops(depth):
    # for / while / for-else with a break, alternating; each level reads what the
    # levels inside it assign on a previous iteration (y), so every loop head
    # state grows while the reaching definitions are computed.
    lines = ["class M(torch.nn.Module):", "    def forward(self, x, n):", "        y = x"]
    for i in range(depth):
        ind = "    " * (i + 2)
        if i % 3 == 1:
            lines.append(ind + "while n > %d:" % i)
        else:
            lines.append(ind + "for i%d in range(n):" % i)
        lines.append(ind + "    x = torch.add(x, y)")
        if i % 3 == 2:
            lines.append(ind + "    if n > %d:" % (i * 7))
            lines.append(ind + "        break")
    ind = "    " * (depth + 2)
    lines.append(ind + "y = torch.mul(x, 2)")
    for i in reversed(range(depth)):
        if i % 3 == 0:
            lines.append("    " * (i + 2) + "else:")
            lines.append("    " * (i + 3) + "y = torch.relu(y)")
    lines.append("        return x + y")
    return HEADER + "\n".join(lines) + "\n"


def test_nested_loops_20(d):
    # 20 is CPython's limit of statically nested blocks. The flow walk reaches a
    # fixpoint per loop instead of walking each body twice per enclosing walk
    # (2**20 walks, minutes and gigabytes): a CPU-time bound of a few seconds decides.
    r, out = correct(d, nested_loops(20), nclasses=1, timeout=5)
    # y, assigned innermost and read by every level's add, reaches each add
    check(out.count(b"fastforward.nn.functional.add(") == 21, "not every add was rewritten", r)
    check(out.count(b"= self.quantizer_y(y)") >= 1, "the value of y assigned in the loop was not quantized", r)


def test_nested_loops_90(d):
    # deeper than CPython allows: refused or converted, within the same bound
    nesting(d, nested_loops(90), False, timeout=5)


# --- recursion in the program ---

def test_helper_calls_itself(d):
    src = HEADER + "def h(x, n):\n    if n == 0:\n        return torch.relu(x)\n    return h(torch.sigmoid(x), n - 1)\n\n\n" \
        "class M(torch.nn.Module):\n    def forward(self, x):\n        return h(x, 3)\n"
    correct(d, src, nclasses=1)


def test_helpers_call_each_other(d):
    src = HEADER + "def even(x, n):\n    return torch.relu(x) if n == 0 else odd(x, n - 1)\n\n\n" \
        "def odd(x, n):\n    return torch.sigmoid(x) if n == 0 else even(x, n - 1)\n\n\n" \
        "class M(torch.nn.Module):\n    def forward(self, x):\n        return even(x, 4)\n"
    correct(d, src, nclasses=1)


def test_methods_call_each_other(d):
    src = HEADER + "class M(torch.nn.Module):\n    def a(self, x):\n        return self.b(torch.relu(x))\n\n" \
        "    def b(self, x):\n        return self.a(torch.sigmoid(x))\n\n    def forward(self, x):\n        return self.a(x)\n"
    correct(d, src, nclasses=1)


def test_forward_calls_itself(d):
    src = HEADER + "class M(torch.nn.Module):\n    def forward(self, x):\n        return self.forward(torch.relu(x))\n"
    correct(d, src, nclasses=1)


def test_class_inherits_from_itself_through_alias(d):
    src = HEADER + "Alias = object\n\n\nclass M(Alias):\n    def forward(self, x):\n        return torch.relu(x)\n\n\nAlias = M\n\n\n" \
        "class M(Alias, torch.nn.Module):\n    def forward(self, x):\n        return torch.sigmoid(x)\n"
    autoquant(d, src)


def test_alias_cycle_before_class(d):
    src = HEADER + "A = B\nB = A\n\n\nclass M(A):\n    def forward(self, x):\n        return torch.relu(x)\n"
    autoquant(d, src)


def test_self_referential_alias(d):
    src = HEADER + "M = M\n\n\nclass M(M):\n    def forward(self, x):\n        return torch.relu(x)\n\n\nclass N(M, torch.nn.Module):\n    def forward(self, x):\n        return super().forward(x)\n"
    autoquant(d, src)


def test_classes_inherit_from_each_other(d):
    src = HEADER + "class A(B):\n    def forward(self, x):\n        return torch.relu(x)\n\n\n" \
        "class B(A):\n    def forward(self, x):\n        return super().forward(x)\n\n\nclass C(B, torch.nn.Module):\n    pass\n"
    autoquant(d, src)


def test_class_inherits_from_itself_directly(d):
    src = HEADER + "class M(M, torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x)\n"
    autoquant(d, src)


def test_import_alias_cycle(d):
    src = "import torch\nimport torch.nn as nn\nfrom torch import nn as torch\n\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return nn.functional.relu(x)\n"
    autoquant(d, src)


def test_imports_cycle_across_files(d):
    # ffq does not follow imports across files yet: this must simply not hang or crash.
    write(d, "b.py", "from a import A\nimport torch\n\n\nclass B(A):\n    def forward(self, x):\n        return torch.relu(x)\n")
    write(d, "c.py", "from a import *\nfrom b import *\n")
    src = "from b import B\nfrom c import *\nimport a\nimport torch\n\n\nclass A(torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x)\n\n\nclass C(B):\n    pass\n"
    autoquant(d, src, name="a.py", args=["--module", "a"])


def test_self_import(d):
    autoquant(d, "from m import *\nfrom m import M as N\n" + MODEL.replace("class M(torch.nn.Module)", "class M(N)"))


# --- output paths ---

def test_output_in_missing_directory(d):
    write(d, "m.py", MODEL)
    r = run(["autoquant", "m.py", "-o", "no/such/dir/out.py"], d)
    check(r.rc == 2 and "cannot write" in r.err and "no/such/dir/out.py" in r.err, "no clear message", r)
    check(not os.path.exists(os.path.join(d, "no")), "created the directory")


def as_nobody():
    os.setgid(65534)
    os.setuid(65534)


def test_output_in_unwritable_directory(d):
    write(d, "m.py", MODEL)
    ro = os.path.join(d, "ro")
    os.mkdir(ro)
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "m.py"), 0o644)
    os.chmod(ro, 0o555)
    pre = as_nobody if os.getuid() == 0 else None  # root ignores permissions
    r = run(["autoquant", "m.py", "-o", "ro/out.py"], d, preexec=pre)
    check(r.rc == 2 and "cannot write" in r.err and "ro/out.py" in r.err, "no clear message", r)
    check(os.listdir(ro) == [], "left something behind: %s" % os.listdir(ro))


def test_output_is_a_directory(d):
    write(d, "m.py", MODEL)
    os.mkdir(os.path.join(d, "dir.py"))
    r = run(["autoquant", "m.py", "-o", "dir.py", "--force"], d)
    check(r.rc == 2 and "dir.py" in r.err and "error" in r.err, "no clear message", r)
    check(not stray_temps(d), "temporary file left behind", r)


def test_output_equals_input(d):
    write(d, "m.py", MODEL)
    for spelling in ("m.py", "./m.py", os.path.join(d, "m.py"), "../" + os.path.basename(d) + "/m.py"):
        for force in ([], ["--force"]):
            r = run(["autoquant", "m.py", "-o", spelling] + force, d)
            check(r.rc == 2 and "is the input" in r.err, "not refused: -o %s %s" % (spelling, force), r)
            check(open(os.path.join(d, "m.py")).read() == MODEL, "input modified")


def test_output_is_a_link_to_the_input(d):
    write(d, "m.py", MODEL)
    os.symlink("m.py", os.path.join(d, "sym.py"))
    os.link(os.path.join(d, "m.py"), os.path.join(d, "hard.py"))
    for out in ("sym.py", "hard.py"):
        r = run(["autoquant", "m.py", "-o", out, "--force"], d)
        check(r.rc == 2 and "is the input" in r.err, "not refused: -o %s" % out, r)
        check(open(os.path.join(d, "m.py")).read() == MODEL, "input modified")


def test_input_is_a_directory(d):
    os.mkdir(os.path.join(d, "pkg.py"))
    r = run(["autoquant", "pkg.py"], d)
    check(r.rc in (1, 2) and "pkg.py" in r.err and "error" in r.err, "no clear message", r)


def test_input_missing(d):
    r = run(["autoquant", "nope.py"], d)
    check(r.rc == 2 and "nope.py" in r.err, "no clear message", r)


def test_input_unreadable(d):
    write(d, "m.py", MODEL)
    os.chmod(os.path.join(d, "m.py"), 0o000)
    os.chmod(d, 0o755)
    pre = as_nobody if os.getuid() == 0 else None
    r = run(["autoquant", "m.py"], d, preexec=pre)
    check(r.rc == 2 and "m.py" in r.err and "error" in r.err, "no clear message", r)


def test_module_name_from_unusual_file_name(d):
    # The generated `from <module> import M` must be valid Python even when the
    # file name is not an identifier (or the user must be told to pass --module).
    autoquant(d, MODEL, name="my-model.v2.py")


def test_module_option_not_dotted_identifier(d):
    write(d, "m.py", MODEL)
    for mod in ("a b", "1abc", "a..b", "a.", "import", "a-b"):
        r = run(["autoquant", "m.py", "-o", "out.py", "--force", "--module", mod], d)
        if r.rc == 0:
            check(compiles(open(os.path.join(d, "out.py"), "rb").read()), "--module %r: output is not valid Python" % mod, r)
        else:
            check("error" in r.err, "--module %r: no clear message" % mod, r)


def fsize_limit(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def big_model(n=400):
    return HEADER + "".join("class M%d(torch.nn.Module):\n    def forward(self, x):\n        return torch.relu(x)\n\n\n" % i for i in range(n))


def test_write_failure_keeps_old_output(d):
    # RLIMIT_FSIZE: any write past 4 KiB fails with EFBIG, as on a full disk.
    write(d, "m.py", big_model())
    old = write(d, "out.py", "# the old output\n")
    r = run(["autoquant", "m.py", "-o", "out.py", "--force"], d, preexec=fsize_limit(4096))
    check(r.rc == 2 and "cannot write" in r.err, "no clear message", r)
    check(open(old).read() == "# the old output\n", "the old output did not survive")
    check(not stray_temps(d), "temporary file left behind: %s" % stray_temps(d), r)


def test_disk_full_tmpfs(d):
    mnt = os.path.join(d, "full")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                      stderr=subprocess.DEVNULL).returncode != 0:
        print("    (cannot mount a tmpfs here; the RLIMIT_FSIZE test covers write failures)")
        return
    try:
        write(d, "m.py", big_model(60))  # about 20 KiB of output
        old = write(mnt, "out.py", "# the old output\n")
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:  # leave about 8 KiB free
            try:
                f.write(b"\0" * (64 * 1024 - 8192))
            except OSError:
                pass
        r = run(["autoquant", "m.py", "-o", os.path.join(mnt, "out.py"), "--force"], d)
        check(r.rc == 2 and "cannot write" in r.err and "No space left" in r.err, "no clear message", r)
        check(open(old).read() == "# the old output\n", "the old output did not survive")
        check(not stray_temps(mnt), "temporary file left behind: %s" % stray_temps(mnt), r)
        os.unlink(filler)
        r = run(["autoquant", "m.py", "-o", os.path.join(mnt, "out.py"), "--force"], d)
        check(r.rc == 0 and compiles(open(old, "rb").read()), "no output once there is room", r)
    finally:
        subprocess.run(["umount", mnt])


def test_stdout_closed_or_full(d):
    write(d, "m.py", big_model())
    with open("/dev/full", "wb") as full:
        p = subprocess.run([FFQ, "autoquant", "m.py"], cwd=d, stdout=full, stderr=subprocess.PIPE,
                           timeout=limits.WALL_FLOOR)
    err = p.stderr.decode("utf-8", "replace")
    check(p.returncode == 2 and "error" in err, "writing to a full stdout: exit %d, stderr %r" % (p.returncode, err[-300:]))


TESTS = [(n, f) for n, f in sorted(globals().items(), key=lambda kv: kv[1].__code__.co_firstlineno if callable(kv[1]) and hasattr(kv[1], "__code__") else 0)
         if n.startswith("test_") and callable(f)]


def main():
    global FFQ
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    FFQ = os.path.abspath(sys.argv[1])
    global ASAN
    with open(FFQ, "rb") as f:
        ASAN = b"__asan_init" in f.read()
    only = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "-k" else None
    passed = failed = 0
    for name, fn in TESTS:
        if only and only not in name:
            continue
        with tempfile.TemporaryDirectory(prefix="ffq-hostile-") as d:
            t0 = time.monotonic()
            try:
                fn(d)
                passed += 1
                print("ok    %-48s %6.2fs" % (name, time.monotonic() - t0), flush=True)
            except Fail as e:
                failed += 1
                print("FAIL  %s: %s" % (name, e), flush=True)
            except Exception:
                failed += 1
                print("FAIL  %s: the test itself raised\n%s" % (name, traceback.format_exc()), flush=True)
            finally:
                for root, dirs, _ in os.walk(d):  # undo chmods so the directory can be removed
                    for x in dirs:
                        os.chmod(os.path.join(root, x), 0o755)
    print("hostile: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

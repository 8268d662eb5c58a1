#!/usr/bin/env python3
"""The ffq command line as a user meets it.

Usage: cli_test.py FFQ_BINARY

Each test runs the binary in a fresh temporary directory and checks the exit
status, the message, and what is (or is not) left on disk.
"""
import os
import shutil
import subprocess
import sys
import tempfile

FFQ = None
MODEL = """import torch
import torch.nn.functional as F


class Small(torch.nn.Module):
    def forward(self, x):
        return F.relu(x)


class Other(torch.nn.Module):
    def forward(self, x):
        return x
"""


def run(args, cwd, stdin=None):
    p = subprocess.run([FFQ] + args, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def write(d, name, text):
    with open(os.path.join(d, name), "w", encoding="utf-8") as f:
        f.write(text)


def files(d):
    return sorted(os.listdir(d))


def test_help_and_version(d):
    rc, out, _ = run(["--help"], d)
    assert rc == 0 and "autoquant" in out and "example" in out, out
    rc, out, _ = run(["autoquant", "--help"], d)
    assert rc == 0 and "--output" in out and "--force" in out and "--class" in out, out
    rc, out, _ = run(["--version"], d)
    assert rc == 0 and out.startswith("ffq "), out
    rc, _, err = run([], d)
    assert rc == 2 and "usage" in err, err


def test_unknown_option_and_command(d):
    write(d, "m.py", MODEL)
    rc, out, err = run(["autoquant", "m.py", "--frobnicate"], d)
    assert rc == 2 and "unknown option '--frobnicate'" in err and "--help" in err, err
    assert out == ""
    rc, _, err = run(["quantize", "m.py"], d)
    assert rc == 2 and "unknown command 'quantize'" in err, err
    rc, _, err = run(["autoquant", "m.py", "-o"], d)
    assert rc == 2 and "needs a file name" in err, err


def test_missing_input(d):
    rc, _, err = run(["autoquant", "nope.py", "-o", "out.py"], d)
    assert rc == 2 and "cannot read 'nope.py'" in err, err
    assert files(d) == [], files(d)
    rc, _, err = run(["autoquant"], d)
    assert rc == 2 and "missing INPUT.py" in err, err


def test_syntax_error_file_line_col_caret(d):
    write(d, "bad.py", "import torch\n\nclass A(torch.nn.Module):\n    def forward(self, x)\n        return x\n")
    rc, out, err = run(["autoquant", "bad.py", "-o", "out.py"], d)
    assert rc == 1, (rc, err)
    first = err.splitlines()[0]
    assert first.startswith("bad.py:4:") and "error:" in first and "[syntax-error]" in first, err
    assert "    def forward(self, x)" in err and "^" in err, err
    assert out == "" and files(d) == ["bad.py"], files(d)


def test_unknown_class_lists_classes(d):
    write(d, "m.py", MODEL)
    rc, out, err = run(["autoquant", "m.py", "--class", "Big", "-o", "out.py"], d)
    assert rc == 1 and "no class 'Big'" in err and "Small" in err and "Other" in err, err
    assert files(d) == ["m.py"]


def test_stdout_by_default_and_class_selection(d):
    write(d, "m.py", MODEL)
    rc, out, err = run(["autoquant", "m.py", "--class", "Small"], d)
    assert rc == 0 and err == "", err
    assert "class QuantizedSmall(fastforward.nn.QuantizedModule, Small):" in out
    assert "QuantizedOther" not in out
    assert "from m import Small" in out
    rc, out, _ = run(["autoquant", "m.py", "--module", "pkg.models.m"], d)
    assert "from pkg.models.m import Other, Small" in out, out


def test_output_written_atomically_with_summary(d):
    write(d, "m.py", MODEL)
    rc, out, err = run(["autoquant", "m.py", "-o", "q.py"], d)
    assert rc == 0 and out == "", (rc, out, err)
    assert "wrote q.py" in err and "2 classes generated" in err, err
    assert files(d) == ["m.py", "q.py"], files(d)  # no temporary left behind
    with open(os.path.join(d, "q.py")) as f:
        assert "QuantizedSmall" in f.read()


def test_existing_output_needs_force(d):
    write(d, "m.py", MODEL)
    write(d, "q.py", "old contents\n")
    rc, _, err = run(["autoquant", "m.py", "-o", "q.py"], d)
    assert rc == 2 and "already exists" in err and "--force" in err, err
    with open(os.path.join(d, "q.py")) as f:
        assert f.read() == "old contents\n"
    rc, _, err = run(["autoquant", "m.py", "--output=q.py", "--force"], d)
    assert rc == 0, err
    with open(os.path.join(d, "q.py")) as f:
        assert "QuantizedSmall" in f.read()
    assert files(d) == ["m.py", "q.py"]


def test_failed_run_keeps_old_output(d):
    write(d, "bad.py", "class (:\n")
    write(d, "q.py", "old contents\n")
    rc, _, _ = run(["autoquant", "bad.py", "-o", "q.py", "-f"], d)
    assert rc == 1
    with open(os.path.join(d, "q.py")) as f:
        assert f.read() == "old contents\n"
    assert files(d) == ["bad.py", "q.py"]


def test_output_in_missing_directory(d):
    write(d, "m.py", MODEL)
    rc, _, err = run(["autoquant", "m.py", "-o", "no/such/dir/q.py"], d)
    assert rc == 2 and "cannot write 'no/such/dir/q.py'" in err, err
    assert files(d) == ["m.py"]


def test_output_is_input_refused(d):
    write(d, "m.py", MODEL)
    rc, _, err = run(["autoquant", "m.py", "-o", "m.py", "-f"], d)
    assert rc == 2 and "is the input file" in err, err
    with open(os.path.join(d, "m.py")) as f:
        assert f.read() == MODEL


def test_unwritable_directory(d):
    if os.geteuid() == 0:
        return  # root writes anywhere; /dev/full covers write failures below
    os.mkdir(os.path.join(d, "ro"), 0o555)
    write(d, "m.py", MODEL)
    rc, _, err = run(["autoquant", "m.py", "-o", "ro/q.py"], d)
    assert rc == 2 and "cannot write" in err, err


def main():
    global FFQ
    FFQ = os.path.abspath(sys.argv[1])
    tests = [(k, v) for k, v in sorted(globals().items()) if k.startswith("test_")]
    passed = failed = 0
    for name, fn in tests:
        d = tempfile.mkdtemp(prefix="ffq-cli-")
        try:
            fn(d)
            passed += 1
            print("ok    " + name)
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print("FAIL  %s: %s: %s" % (name, type(e).__name__, e))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("cli: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

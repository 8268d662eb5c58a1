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


def test_dump_stages(d):
    write(d, "m.py", MODEL)
    rc, out, err = run(["autoquant", "m.py", "--dump=program"], d)
    assert rc == 0 and "class Small(torch.nn.Module), nn.Module: yes" in out, out + err
    rc, out, err = run(["autoquant", "m.py", "--dump=plan"], d)
    assert rc == 0 and "# class QuantizedSmall for m.Small" in out and "op relu" in out, out + err
    rc, out, err = run(["autoquant", "m.py", "--dump=cst"], d)
    assert rc == 2 and "unknown stage in '--dump=cst'" in err and out == "", err


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
    assert rc == 0 and err.startswith("ffq: summary: ") and err.count("\n") == 1, err
    assert "1 class and 0 helpers generated, 2 quantizer stubs" in err, err
    rc, out, err = run(["autoquant", "m.py", "--class", "Small", "-q"], d)
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
    assert "wrote q.py" in err and "2 classes and 0 helpers generated" in err, err
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


def test_check_fresh_stale_missing(d):
    write(d, "m.py", MODEL)
    rc, _, _ = run(["autoquant", "m.py", "-o", "q.py"], d)
    assert rc == 0
    rc, out, err = run(["autoquant", "m.py", "--check", "q.py"], d)
    assert rc == 0 and out == "" and "up to date" in err, (rc, out, err)
    with open(os.path.join(d, "q.py")) as f:
        text = f.read()
    write(d, "q.py", text.replace("quantizer_relu)", "quantizer_relu )"))
    rc, out, err = run(["autoquant", "m.py", "--check", "q.py"], d)
    assert rc == 1 and "is stale" in err, (rc, err)
    assert out.startswith("--- q.py\n+++ (generated)\n@@ "), out
    assert "\033[" not in out  # no colour when not on a terminal
    assert "-        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu )" in out, out
    rc, out, err = run(["autoquant", "m.py", "--check", "missing.py"], d)
    assert rc == 1 and "does not exist" in err, err
    assert not os.path.exists(os.path.join(d, "missing.py"))
    rc, _, err = run(["autoquant", "m.py", "--check", "q.py", "-o", "x.py"], d)
    assert rc == 2 and "exclude each other" in err, err


def test_stdin_and_stdout_dash(d):
    rc, out, err = run(["autoquant", "-", "--module", "pkg.m", "-o", "-"], d, stdin=MODEL.encode())
    assert rc == 0 and "from pkg.m import Other, Small" in out, (rc, out, err)
    rc, _, err = run(["autoquant", "-"], d, stdin=MODEL.encode())
    assert rc == 2 and "needs --module" in err, err
    rc, _, err = run(["autoquant", "-", "--module", "m"], d, stdin=b"class (:\n")
    assert rc == 1 and err.startswith("<stdin>:1:"), err


def test_batch_mode_mirrors_tree(d):
    os.makedirs(os.path.join(d, "pkg", "sub"))
    write(d, "pkg/__init__.py", "")
    write(d, "pkg/sub/__init__.py", "")
    write(d, "pkg/sub/model.py", MODEL)
    write(d, "pkg/util.py", "def f():\n    return 1\n")
    rc, out, err = run(["autoquant", "pkg", "-o", "out"], d)
    assert rc == 0, err
    assert "4 files read, 1 converted (2 classes" in err, err
    assert sorted(os.listdir(os.path.join(d, "out"))) == ["sub"], os.listdir(os.path.join(d, "out"))
    with open(os.path.join(d, "out", "sub", "model.py")) as f:
        assert "from pkg.sub.model import Other, Small" in f.read()
    rc, _, err = run(["autoquant", "pkg", "--check", "out"], d)
    assert rc == 0 and "all up to date" in err, err
    write(d, "pkg/sub/model.py", MODEL.replace("F.relu(x)", "F.relu(x) * 2"))
    rc, out, err = run(["autoquant", "pkg", "--check", "out"], d)
    assert rc == 1 and "stale" in err and "+++ (generated)" in out, (rc, err)
    rc, _, err = run(["autoquant", "pkg", "-o", "out"], d)
    assert rc == 2 and "already exists" in err, err
    rc, _, err = run(["autoquant", "pkg"], d)
    assert rc == 2 and "is a directory" in err and "-o OUTDIR" in err, err


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

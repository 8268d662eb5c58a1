#!/usr/bin/env python3
"""The ffq command line as a user meets it.

Usage: cli_test.py FFQ_BINARY

Each test runs the binary in a fresh temporary directory and checks the exit
status, the message, and what is (or is not) left on disk.
"""
import os
import shutil
import socket
import stat
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


def run(args, cwd, stdin=None, env=None):
    p = subprocess.run([FFQ] + args, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, env=env)
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
    assert "--stub-tags" in out and "--no-stub-tags" in out and "stub-tags, check" in out, out
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
    assert "did you mean" not in err, err  # nothing near enough
    rc, _, err = run(["autoqant", "m.py"], d)
    assert rc == 2 and "unknown command 'autoqant'; did you mean 'autoquant'?" in err, err
    rc, _, err = run(["autoquant", "m.py", "--fore"], d)
    assert rc == 2 and "did you mean '--force'?" in err, err
    rc, _, err = run(["autoquant", "m.py", "--no-stub-tag"], d)
    assert rc == 2 and "did you mean '--no-stub-tags'?" in err, err
    rc, _, err = run(["autoquant", "m.py", "--ouptut=q.py"], d)
    assert rc == 2 and "did you mean '--output'?" in err, err
    rc, _, err = run(["optable", "--lst"], d)
    assert rc == 2 and "did you mean '--list'?" in err, err
    for rule, empty in (("=>import os", "pattern"), ("torch.relu({x})=>  ", "replacement")):
        rc, out, err = run(["autoquant", "m.py", "--replace", rule], d)
        assert rc == 2 and "the %s is empty" % empty in err and out == "", (rc, err)
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


def test_output_package_directory(d):
    # an output path not ending in .py is a package directory: <dir>/__init__.py, made on write
    write(d, "m.py", MODEL)
    for out in ("qpkg", "deep/er/qpkg/"):
        rc, _, err = run(["autoquant", "m.py", "-o", out], d)
        init = os.path.join(d, out, "__init__.py")
        assert rc == 0 and "wrote %s" % os.path.join(out.rstrip("/"), "__init__.py") in err, (rc, err)
        with open(init) as f:
            assert "QuantizedSmall" in f.read()
        rc, _, err = run(["autoquant", "m.py", "-o", out], d)  # exists: needs --force
        assert rc == 2 and "already exists" in err and "__init__.py" in err, (rc, err)
        rc, _, err = run(["autoquant", "m.py", "-o", out, "-f", "-q"], d)
        assert rc == 0 and err == "", (rc, err)
        rc, out_text, err = run(["autoquant", "m.py", "--check", out], d)  # the same file
        assert rc == 0 and out_text == "" and "__init__.py' is up to date" in err, (rc, err)
    write(d, "plain", "a file, not a directory\n")
    rc, _, err = run(["autoquant", "m.py", "-o", "plain", "-f"], d)
    assert rc == 2 and "plain/__init__.py" in err, (rc, err)
    assert [f for f in files(d) if f.startswith(".ffq-")] == []


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


def test_pattern_rules_reach_followed_modules(d):
    # §8: the rules rewrite every file read, not only the input: a helper followed into
    # another module is converted from its rewritten text (also in a directory run, whose
    # modules are parsed once for all inputs)
    os.makedirs(os.path.join(d, "pkg"))
    write(d, "pkg/__init__.py", "")
    write(d, "pkg/helpers.py", "import torch\n\n\ndef act(x):\n    return torch.sigmoid(x) * 2\n")
    write(d, "pkg/model.py", "import torch\nfrom pkg.helpers import act\n\n\n"
          "class M(torch.nn.Module):\n    def forward(self, x):\n        return act(x) + 1\n")
    rule = ["--replace", "torch.sigmoid({x})=>torch.relu({x})"]
    rc, _, err = run(["autoquant", "pkg/model.py", "-o", "q.py"] + rule, d)
    assert rc == 0, err
    with open(os.path.join(d, "q.py")) as f:
        text = f.read()
    assert "functional.relu(x" in text and "sigmoid" not in text, text
    rc, _, err = run(["autoquant", "pkg", "-o", "out"] + rule, d)
    assert rc == 0, err
    with open(os.path.join(d, "out", "model.py")) as f:
        text = f.read()
    assert "functional.relu(x" in text and "sigmoid" not in text, text
    rc, _, err = run(["autoquant", "pkg/model.py", "-o", "q2.py"], d)  # no rule: as written
    with open(os.path.join(d, "q2.py")) as f:
        assert "functional.sigmoid(x" in f.read()


def test_output_never_replaces_special_files(d):
    write(d, "m.py", MODEL)
    fifo = os.path.join(d, "fifo.py")
    os.mkfifo(fifo)
    for force in ([], ["-f"]):
        rc, out, err = run(["autoquant", "m.py", "-o", "fifo.py"] + force, d)
        assert rc == 2 and "'fifo.py' is a FIFO, not a regular file" in err, (rc, err)
        assert "-o -" in err, err
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(d, "sock.py"))
    rc, _, err = run(["autoquant", "m.py", "-o", "sock.py", "-f"], d)
    sock.close()
    assert rc == 2 and "is a socket" in err, err
    assert stat.S_ISSOCK(os.lstat(os.path.join(d, "sock.py")).st_mode)
    os.mkdir(os.path.join(d, "dir.py"))
    rc, _, err = run(["autoquant", "m.py", "-o", "dir.py", "-f"], d)
    assert rc == 2 and "is a directory" in err, err
    if os.geteuid() == 0:  # a private /dev/null look-alike: a character device node
        os.mknod(os.path.join(d, "null.py"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        rc, _, err = run(["autoquant", "m.py", "-o", "null.py", "-f"], d)
        assert rc == 2 and "is a character device" in err, err
        assert stat.S_ISCHR(os.lstat(os.path.join(d, "null.py")).st_mode)
    os.symlink("fifo.py", os.path.join(d, "tofifo.py"))
    rc, _, err = run(["autoquant", "m.py", "-o", "tofifo.py", "-f"], d)
    assert rc == 2 and "symbolic link to a FIFO" in err, err
    assert [f for f in files(d) if f.startswith(".ffq-")] == []


def test_symlink_output_replaces_its_target(d):
    write(d, "m.py", MODEL)
    os.mkdir(os.path.join(d, "real"))
    write(d, "real/q.py", "old\n")
    os.symlink("real/q.py", os.path.join(d, "q.py"))
    rc, _, err = run(["autoquant", "m.py", "-o", "q.py"], d)
    assert rc == 2 and "already exists" in err, err
    rc, _, err = run(["autoquant", "m.py", "-o", "q.py", "-f", "-q"], d)
    assert rc == 0 and err == "", err
    assert os.path.islink(os.path.join(d, "q.py")), "the link must stay a link"
    with open(os.path.join(d, "real", "q.py")) as f:
        assert "QuantizedSmall" in f.read()
    assert sorted(os.listdir(os.path.join(d, "real"))) == ["q.py"]  # no temporary left
    os.symlink("missing.py", os.path.join(d, "dangling.py"))
    rc, _, err = run(["autoquant", "m.py", "-o", "dangling.py", "-f"], d)
    assert rc == 2 and "leads nowhere" in err, err
    assert not os.path.exists(os.path.join(d, "missing.py"))


def test_concurrent_writers_exactly_one_wins(d):
    write(d, "m.py", MODEL)
    for rnd in range(3):
        out = "q%d.py" % rnd
        procs = [subprocess.Popen([FFQ, "autoquant", "m.py", "-o", out, "-q"], cwd=d,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
        res = [(p.wait(timeout=60), p.stderr.read().decode()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        wins = [r for r in res if r[0] == 0]
        assert len(wins) == 1, res
        for rc, err in res:
            assert rc == 0 or (rc == 2 and "already exists; use --force" in err), (rc, err)
    assert [f for f in files(d) if f.startswith(".ffq-")] == [], files(d)


def test_stdout_write_failure_is_reported(d):
    write(d, "m.py", MODEL)
    if not os.path.exists("/dev/full"):
        return
    with open("/dev/full", "wb") as full:
        for args in (["autoquant", "m.py"], ["optable", "--list"], ["--help"], ["autoquant", "--help"]):
            p = subprocess.run([FFQ] + args, cwd=d, stdout=full, stderr=subprocess.PIPE, timeout=60)
            assert p.returncode == 2 and b"standard output" in p.stderr, (args, p.returncode, p.stderr)


def make_pkg(d):
    os.makedirs(os.path.join(d, "pkg", "sub"))
    write(d, "pkg/__init__.py", "")
    write(d, "pkg/sub/__init__.py", "")
    write(d, "pkg/sub/model.py", MODEL)


def test_batch_does_not_follow_directory_symlinks(d):
    make_pkg(d)
    os.symlink("..", os.path.join(d, "pkg", "sub", "loop"))
    os.symlink("/", os.path.join(d, "pkg", "root"))
    rc, _, err = run(["autoquant", "pkg", "-o", "out"], d)
    assert rc == 0, err
    assert "3 files read, 1 converted" in err and "0 errors" in err, err
    assert "not following the directory symlink 'pkg/root'" in err, err
    outs = [os.path.join(dp, f) for dp, _, fn in os.walk(os.path.join(d, "out")) for f in fn]
    assert outs == [os.path.join(d, "out", "sub", "model.py")], outs
    rc, _, err = run(["autoquant", "pkg", "-o", "out2", "-q"], d)
    assert rc == 0 and err == "", err


def test_batch_follow_symlinks_detects_loops(d):
    make_pkg(d)
    os.makedirs(os.path.join(d, "other"))
    write(d, "other/extra.py", MODEL)
    os.symlink("..", os.path.join(d, "pkg", "sub", "loop"))
    os.symlink(os.path.join(d, "other"), os.path.join(d, "pkg", "linked"))
    rc, _, err = run(["autoquant", "pkg", "-o", "out", "--follow-symlinks"], d)
    assert rc == 0, err
    assert "pkg/sub/loop' leads back to a directory it is in" in err, err
    assert err.count("leads back") == 1, err
    assert "4 files read, 2 converted" in err and "1 warning, 0 errors" in err, err
    assert os.path.exists(os.path.join(d, "out", "linked", "extra.py"))
    assert not os.path.exists(os.path.join(d, "out", "sub", "loop"))


def test_batch_summary_agrees_with_exit_status(d):
    make_pkg(d)
    write(d, "pkg/bad.py", "class (:\n")
    rc, _, err = run(["autoquant", "pkg", "-o", "out"], d)
    assert rc == 1 and "1 error" in err and "0 errors" not in err, (rc, err)
    rc, _, err = run(["autoquant", "pkg", "-o", "out"], d)  # outputs exist, no --force
    assert rc == 2 and "already exists" in err, (rc, err)
    last = err.strip().splitlines()[-1]
    assert "2 errors" in last and "written to" not in last, last
    rc, _, err = run(["autoquant", "pkg", "-o", "out", "-q"], d)
    assert rc == 2 and err.count("error:") == 2 and "files read" not in err, (rc, err)
    os.remove(os.path.join(d, "pkg", "bad.py"))
    rc, _, err = run(["autoquant", "pkg", "-o", "out", "-f"], d)
    assert rc == 0 and "0 errors, written to out" in err, (rc, err)


def test_site_packages_cached_per_interpreter(d):
    write(d, "m.py", "import torch\nimport mylib\n\n\nclass M(torch.nn.Module):\n"
                     "    def forward(self, x):\n        return mylib.act(x)\n")
    site = os.path.join(d, "site", "site-packages")
    os.makedirs(site)
    write(d, "site/site-packages/mylib.py", "import torch\n\n\ndef act(x):\n    return torch.relu(x)\n")
    fake = os.path.join(d, "fakepy")
    write(d, "fakepy", "#!/bin/sh\necho run >> %s/asked\necho %s\n" % (d, site))
    os.chmod(fake, 0o755)
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(d, "cache"))
    env.pop("FFQ_NO_CACHE", None)

    def asked():
        with open(os.path.join(d, "asked")) as f:
            return len(f.read().split())

    outs = []
    for _ in range(2):
        rc, out, err = run(["autoquant", "m.py", "--python", fake, "-q"], d, env=env)
        assert rc == 0, err
        outs.append(out)
    assert asked() == 1, asked()  # the second run used the cache
    assert outs[0] == outs[1] and "def quantized_act(" in outs[0], outs  # found through the site dir
    assert os.listdir(os.path.join(d, "cache", "ffq", "site-packages")), "no cache file"
    st = os.stat(fake)
    os.utime(fake, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a changed interpreter
    rc, _, err = run(["autoquant", "m.py", "--python", fake, "-q"], d, env=env)
    assert rc == 0 and asked() == 2, (err, asked())
    rc, _, err = run(["autoquant", "m.py", "--python", fake, "-q"], d, env=dict(env, FFQ_NO_CACHE="1"))
    assert rc == 0 and asked() == 3, (err, asked())
    shutil.rmtree(site)  # a cached directory that is gone: ask again
    rc, _, err = run(["autoquant", "m.py", "--python", fake, "-q"], d, env=env)
    assert asked() == 4, (rc, err, asked())
    rc, _, err = run(["autoquant", "m.py", "--python", os.path.join(d, "nopython"), "-q"], d, env=env)
    assert rc == 2 and "cannot run" in err, err


def test_diagnostics_escape_control_characters(d):
    with open(os.path.join(d, "esc.py"), "wb") as f:
        f.write(b"import torch\nx = 1 +\x1b[31m red \x00 z\n")
    rc, _, err = run(["autoquant", "esc.py"], d)
    assert rc == 1 and "\x1b" not in err and "\x00" not in err, repr(err)
    lines = err.splitlines()
    assert lines[0] == "esc.py:2:8: error: invalid syntax near '\\x1b' [syntax-error]", lines
    assert lines[1] == "    x = 1 +\\x1b[31m red \\x00 z", lines
    assert lines[2] == "           ^", lines  # under the escape
    assert lines[3] == "esc.py:2:18: error: invalid syntax near '\\x00' [syntax-error]", lines
    assert lines[5] == "                        ^", lines  # under \x00: the NUL keeps its place
    with open(os.path.join(d, "bad.py"), "wb") as f:
        f.write(b"import torch\ns = '\xc3\xa9' + \xff\n")
    rc, _, err = run(["autoquant", "bad.py"], d)
    lines = err.splitlines()
    assert rc == 1 and "[not-utf8]" in lines[0], err
    assert lines[1] == "    s = '\u00e9' + \\xff" and lines[2] == "              ^", lines


def test_pep263_coding_declarations(d):
    src = ("# -*- coding: latin-1 -*-\nimport torch\n\n\nclass M(torch.nn.Module):\n"
           "    def forward(self, x):\n        return torch.relu(x)  # \u00e9t\u00e9\n")
    with open(os.path.join(d, "lat.py"), "wb") as f:
        f.write(src.encode("latin-1"))
    compile(open(os.path.join(d, "lat.py"), "rb").read(), "lat.py", "exec")  # CPython accepts it
    rc, out, err = run(["autoquant", "lat.py", "-q"], d)
    assert rc == 0 and "# \u00e9t\u00e9" in out and "coding" not in out, (rc, err, out)
    with open(os.path.join(d, "euc.py"), "wb") as f:  # on line 2, after a shebang; '_' spelling
        f.write("#!/usr/bin/env python3\n# vim: set fileencoding=euc_jp :\nimport torch\n\n\n"
                "class M(torch.nn.Module):\n    def forward(self, x):\n        return x  # \u65e5\u672c\n"
                .encode("euc_jp"))
    rc, out, err = run(["autoquant", "euc.py", "-q"], d)
    assert rc == 0 and "# \u65e5\u672c" in out, (rc, err)
    write(d, "kl.py", "# coding: klingon\nimport torch\n")
    rc, _, err = run(["autoquant", "kl.py"], d)
    assert rc == 1 and "unknown encoding 'klingon'" in err and "kl.py:1:3:" in err, err
    with open(os.path.join(d, "asc.py"), "wb") as f:
        f.write(b"# coding: ascii\nimport torch\nx = '\xe9'\n")
    rc, _, err = run(["autoquant", "asc.py"], d)
    assert rc == 1 and "asc.py:3:6: error: byte 0xe9 cannot be decoded as ascii" in err, err
    write(d, "late.py", "import torch\n\n# coding: latin-1\n")  # line 3: not a declaration
    with open(os.path.join(d, "late.py"), "ab") as f:
        f.write(b"x = '\xe9'\n")
    rc, _, err = run(["autoquant", "late.py"], d)
    assert rc == 1 and "not valid UTF-8" in err, err


def test_quiet_prints_errors_only(d):
    write(d, "nomod.py", "import torch\n\n\ndef f(x):\n    return torch.relu(x)\n")
    rc, out, err = run(["autoquant", "nomod.py"], d)
    assert rc == 0 and "warning:" in err, (rc, err)
    rc, out, err = run(["autoquant", "nomod.py", "-q"], d)
    assert rc == 0 and err == "", (rc, err)
    write(d, "bad.py", "class (:\n")
    rc, _, err = run(["autoquant", "bad.py", "-q"], d)
    assert rc == 1 and "error:" in err, err


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

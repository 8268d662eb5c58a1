#!/usr/bin/env python3
"""[tool.ffq] in pyproject.toml, as a user meets it on the command line.

Usage: config_test.py FFQ_BINARY

Each test writes a small project into a fresh temporary directory (a
pyproject.toml, a model, sometimes an operator table) and runs ffq there or
from elsewhere, checking the exit status, the messages and the output: the
file's settings apply, flags override them, `ffq autoquant --check` with no
file checks the listed pairs, and a malformed table is an error at
pyproject.toml:line:col. Last line: `config: N passed, M failed`.
"""
import os
import subprocess
import sys
import tempfile

FFQ = None

MODEL = """import torch


class T(torch.nn.Module):
    def forward(self, x: torch.Tensor, n: int):
        m = n * 2
        return torch.sigmoid(x) * m
"""


def run(args, cwd):
    p = subprocess.run([FFQ] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def write(d, name, text):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def stubs(code):
    return code.count("fastforward.nn.QuantizerStub(")


def project(d, table, model=MODEL):
    write(d, "pyproject.toml", '[project]\nname = "demo"\n\n[tool.ffq]\n' + table)
    write(d, "pkg/__init__.py", "")
    write(d, "pkg/m.py", model)


def test_type_inference_from_file_and_flag(d):
    project(d, "")
    rc, inferred, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 0, err
    rc, all_tensors, err = run(["autoquant", "pkg/m.py", "-q", "--no-type-inference"], d)
    assert rc == 0, err
    assert stubs(all_tensors) > stubs(inferred), (inferred, all_tensors)
    project(d, "type-inference = false\n")
    rc, out, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 0 and out == all_tensors, err
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--type-inference"], d)  # the flag wins
    assert rc == 0 and out == inferred, err
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--no-config"], d)
    assert rc == 0 and out == inferred, err


def test_stub_tags_from_file_and_flag(d):
    project(d, "")
    rc, plain, err = run(["autoquant", "pkg/m.py", "-q"], d)  # plain stubs by default
    assert rc == 0 and stubs(plain) == plain.count("QuantizerStub()") > 0, err + plain
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--no-stub-tags"], d)
    assert rc == 0 and out == plain, err
    rc, tagged, err = run(["autoquant", "pkg/m.py", "-q", "--stub-tags"], d)
    assert rc == 0 and "output_quantizer=True" in tagged, err + tagged
    assert stubs(tagged) == stubs(plain) and "QuantizerStub()" not in tagged, tagged
    project(d, "stub-tags = true\n")
    rc, out, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 0 and out == tagged, err
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--no-stub-tags"], d)  # the flag wins
    assert rc == 0 and out == plain, err
    project(d, "stub-tags = false\n")
    rc, out, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 0 and out == plain, err
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--stub-tags"], d)
    assert rc == 0 and out == tagged, err
    project(d, "stub-tags = 0\n")
    rc, _, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 2 and err.startswith("pyproject.toml:5:13: error: 'stub-tags' must be true or false"), err
    project(d, "stub_tags = false\n")
    rc, _, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 2 and "did you mean 'stub-tags'?" in err, err


def test_found_from_the_input_not_the_cwd(d):
    proj = os.path.join(d, "proj")
    os.makedirs(proj)
    project(proj, "type-inference = false\n")
    rc, from_inside, err = run(["autoquant", "pkg/m.py", "-q"], proj)
    assert rc == 0, err
    rc, from_outside, err = run(["autoquant", "proj/pkg/m.py", "-q"], d)
    assert rc == 0, err
    assert from_outside == from_inside and "quantizer_m" in from_outside, from_outside


def test_optable_paths_relative_to_the_file(d):
    write(d, "tables/sig.yaml", "operators:\n"
          '  - op: "sigmoid(input: Quantized) -> Quantized"\n'
          "    fallback: torch.sigmoid\n"
          '  - op: "mul(input: Quantized, other: Quantized | float) -> Quantized"\n'
          "    fallback: torch.mul\n"
          "python_operators:\n"
          '  "*": torch.mul\n')
    write(d, "tables/none.yaml", "operators: []\n")
    project(d, 'optable = ["tables/sig.yaml"]\n')
    # Without the default table only the file's operators are quantized; run
    # from a subdirectory so a path relative to the cwd would not be found.
    rc, out, err = run(["autoquant", "m.py", "-q", "--no-default-optable"], os.path.join(d, "pkg"))
    assert rc == 0, err
    assert "quantizer_sigmoid" in out, out
    # --optable on the command line replaces the file's list.
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--no-default-optable",
                        "--optable", "tables/none.yaml"], d)
    assert rc == 0, err
    assert "quantizer_sigmoid" not in out, out
    project(d, 'optable = ["tables/missing.yaml"]\n')
    rc, out, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc != 0 and "tables/missing.yaml" in err, (rc, err)


def test_replace_rules(d):
    project(d, 'replace = ["torch.sigmoid({x})=>torch.tanh({x})"]\n')
    rc, out, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 0, err
    assert "tanh" in out and "sigmoid" not in out, out
    rc, out, err = run(["autoquant", "pkg/m.py", "-q", "--replace", "torch.sigmoid({x})=>torch.relu({x})"], d)
    assert rc == 0, err
    assert "relu" in out and "tanh" not in out, out


def test_python_and_search_path(d):
    project(d, 'python = "bin/no-such-python"\n')
    rc, _, err = run(["autoquant", "pkg/m.py", "-q"], d)
    assert rc == 2 and "no-such-python" in err, (rc, err)
    rc, _, err = run(["autoquant", "pkg/m.py", "-q", "--python", sys.executable], d)  # the flag wins
    assert rc == 0, err
    # search-path: a helper module found only along it is followed.
    helper = "import torch\n\n\ndef act(x):\n    return torch.sigmoid(x)\n"
    write(d, "vendor/helpers.py", helper)
    model = "import torch\nfrom helpers import act\n\n\nclass U(torch.nn.Module):\n" \
            "    def forward(self, x):\n        return act(x)\n"
    project(d, 'search-path = ["vendor"]\n', model)
    rc, found, err = run(["autoquant", "m.py"], os.path.join(d, "pkg"))
    assert rc == 0 and "quantizer_sigmoid" in found, err + found
    project(d, "", model)
    rc, missing, err = run(["autoquant", "m.py"], os.path.join(d, "pkg"))
    assert "quantizer_sigmoid" not in missing and "helpers" in err, err


def test_check_all_pairs(d):
    project(d, 'check = ["pkg/m.py -> gen/q_m.py", "pkg/ -> q_pkg/"]\n')
    os.makedirs(os.path.join(d, "gen"))
    rc, _, err = run(["autoquant", "pkg/m.py", "-o", "gen/q_m.py", "-q"], d)
    assert rc == 0, err
    rc, _, err = run(["autoquant", "pkg/", "-o", "q_pkg/"], d)
    assert rc == 0, err
    rc, out, err = run(["autoquant", "--check"], d)
    assert rc == 0 and out == "", (rc, out, err)
    assert "2 pairs of [tool.ffq] check: all up to date" in err, err
    # From a subdirectory: the pairs are relative to pyproject.toml.
    rc, _, err = run(["autoquant", "--check", "-q"], os.path.join(d, "pkg"))
    assert rc == 0 and "[tool.ffq] check" not in err, (rc, err)
    # The model changes: both generated files are stale, with a diff each.
    write(d, "pkg/m.py", MODEL.replace("torch.sigmoid", "torch.tanh"))
    rc, out, err = run(["autoquant", "--check"], d)
    assert rc == 1, (rc, err)
    assert out.count("+++ (generated)") == 2 and "tanh" in out, out
    assert "'gen/q_m.py' is stale" in err and "NOT up to date" in err, err
    rc, _, err = run(["autoquant", "pkg/m.py", "-o", "gen/q_m.py", "-f", "-q"], d)
    assert rc == 0, err
    rc, _, err = run(["autoquant", "pkg/", "-o", "q_pkg/", "-f"], d)
    assert rc == 0, err
    rc, out, err = run(["autoquant", "--check"], d)
    assert rc == 0, (out, err)
    os.unlink(os.path.join(d, "gen/q_m.py"))
    rc, _, err = run(["autoquant", "--check"], d)
    assert rc == 1 and "'gen/q_m.py' does not exist" in err, err


def test_check_without_pairs_or_with_input(d):
    project(d, "")
    rc, _, err = run(["autoquant", "--check"], d)
    assert rc == 2 and "needs `check = " in err, err
    rc, _, err = run(["autoquant", "pkg/m.py", "--check"], d)
    assert rc == 2 and "--check without a file" in err, err
    rc, _, err = run(["autoquant", "--check", "--no-config"], d)
    assert rc == 2 and "needs `check = " in err, err


def test_malformed_table_is_an_error_with_a_place(d):
    project(d, 'optable = ["a.yaml",\n  3]\n')
    rc, out, err = run(["autoquant", "pkg/m.py"], d)
    assert rc == 2 and out == "", (rc, out)
    assert err.startswith("pyproject.toml:6:3: error: 'optable' must be a string or an array of strings"), err
    project(d, "typeinference = false\n")
    rc, _, err = run(["autoquant", "--check"], d)
    assert rc == 2 and err.startswith("pyproject.toml:5:1: error: unknown key 'typeinference'"), err
    rc, _, err = run(["autoquant", "m.py"], os.path.join(d, "pkg"))  # found above: an absolute path
    assert rc == 2 and err.startswith(os.path.join(os.path.realpath(d), "pyproject.toml") + ":5:1:"), err
    rc, _, err = run(["autoquant", "pkg/m.py", "-q", "--no-config"], d)  # ignored on request
    assert rc == 0, err


def test_explicit_config_file(d):
    project(d, "type-inference = false\n")
    write(d, "other.toml", "[tool.ffq]\ntype-inference = true\n")
    rc, via_other, err = run(["autoquant", "pkg/m.py", "-q", "--config", "other.toml"], d)
    assert rc == 0, err
    rc, plain, err = run(["autoquant", "pkg/m.py", "-q", "--no-config"], d)
    assert rc == 0 and via_other == plain, err
    rc, _, err = run(["autoquant", "pkg/m.py", "--config", "missing.toml"], d)
    assert rc == 2 and "missing.toml: error: cannot read the file" in err, err


def test_no_table_no_effect(d):
    write(d, "pyproject.toml", '[project]\nname = "x"\n[tool.black]\nline-length = 100\n')
    write(d, "m.py", MODEL)
    rc, with_file, err = run(["autoquant", "m.py", "-q"], d)
    assert rc == 0, err
    rc, without, err = run(["autoquant", "m.py", "-q", "--no-config"], d)
    assert rc == 0 and with_file == without, err


def main():
    global FFQ
    if len(sys.argv) != 2:
        sys.exit("usage: config_test.py FFQ_BINARY")
    FFQ = os.path.abspath(sys.argv[1])
    tests = [(k, v) for k, v in sorted(globals().items()) if k.startswith("test_")]
    passed = failed = 0
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="ffq-config-") as d:
            try:
                fn(d)
                passed += 1
                print("ok    " + name, flush=True)
            except AssertionError as e:
                failed += 1
                print("FAIL  %s: %s" % (name, e), flush=True)
    print("config: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

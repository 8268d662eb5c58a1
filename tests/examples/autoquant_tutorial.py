"""The autoquant tutorial's examples (examples/autoquant_tutorial/), run as transcribed
(indentation restored).

Each self-contained example runs as its own script (``__main__``, as in the tutorial, whose
generated code imports ``from __main__``) in a temporary directory, and the generated
``quantized.py`` is checked against what the tutorial shows. The replacement-pattern
example depends on the tutorial's own test helpers (syrupy, ``tests.autoquant.helpers``):
its rule is run through ``ff.autoquantize`` directly instead.

    python3 tests/examples/autoquant_tutorial.py   # FFQ_BINARY or a build in build/

Ends with "N passed, M failed".
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNTIME = os.path.join(REPO, "runtime", "python")

TUTORIAL = os.path.join(REPO, "examples", "autoquant_tutorial")


def read(name):
    """An example of examples/autoquant_tutorial/: the tutorial's code, indentation restored
    (the pattern example with ff.autoquantize in place of the tutorial's own test helpers;
    auto_import.py is the basic example with auto_import=True and a check of the module)."""
    with open(os.path.join(TUTORIAL, name)) as f:
        return f.read()


BASIC = read("basic.py")
HELPERS = read("helpers.py")
NO_ANNOTATIONS = read("no_annotations.py")
ANNOTATIONS = read("annotations.py")
BILINEAR = read("bilinear.py")
CUSTOM_TABLE = read("custom_optable.py")
PATTERN = read("pattern_rule.py")
AUTO_IMPORT = read("auto_import.py")


def run(script):
    """Run ``script`` as __main__ in a new directory; return (generated source, stdout)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "example.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(script))
        env = dict(os.environ)
        env["PYTHONPATH"] = RUNTIME + os.pathsep + env.get("PYTHONPATH", "")
        done = subprocess.run([sys.executable, path], cwd=d, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
        assert done.returncode == 0, "example failed:\n%s\n%s" % (done.stdout, done.stderr)
        with open(os.path.join(d, "quantized.py")) as f:
            return f.read(), done.stdout


def compact(source):
    return " ".join(source.split())


def test_basic_usage():
    out, _ = run(BASIC)
    assert "from __main__ import MyLinear" in out
    assert "class QuantizedMyLinear(fastforward.nn.QuantizedModule, MyLinear):" in out
    for stub in ("quantizer_linear", "quantizer_self_bias", "quantizer_self_weight", "quantizer_input"):
        assert "self.%s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()" % stub in out, stub
    assert ("return fastforward.nn.functional.linear( input, self_weight, self_bias, "
            "output_quantizer=self.quantizer_linear )") in compact(out)


def test_helper_functions():
    out, _ = run(HELPERS)
    assert "def quantized_helper(" in out and "def quantized_inner_helper(" in out
    for name in ("quantizer_inner_helper_sub_1", "quantizer_inner_helper_sub_2", "quantizer__tmp_1",
                 "quantizer__tmp_2", "quantizer_add"):
        assert name in out, name
    assert "return fastforward.nn.functional.sub(x, y, output_quantizer=quantizer_sub)" in out


def test_annotations_off_quantizes_everything():
    out, _ = run(NO_ANNOTATIONS)
    for name in ("quantizer_y_", "quantizer_y", "quantizer_add_1", "quantizer_add_2"):
        assert name + ":" in out, name
    assert "y = quantizer_y(y)" in out


def test_annotations_with_type_inference():
    out, _ = run(ANNOTATIONS)
    assert "y = y + y" in out  # the list concatenation stays plain Python
    assert "y = quantizer_y(y)" not in out
    assert "fastforward.nn.functional.add(x, y_, output_quantizer=quantizer_add)" in out


def test_bilinear_not_in_table():
    out, _ = run(BILINEAR)
    assert "QuantizerStub" not in out
    assert "return F.bilinear(input1, input2, self.weight, self.bias)" in out


def test_custom_operator_table():
    out, _ = run(CUSTOM_TABLE)
    for stub in ("quantizer_bilinear", "quantizer_self_bias", "quantizer_self_weight", "quantizer_input1",
                 "quantizer_input2"):
        assert "self.%s:" % stub in out, stub
    assert ("return __main__.my_quantized_bilinear( input1, input2, self_weight, self_bias, "
            "output_quantizer=self.quantizer_bilinear )") in compact(out)


def test_replacement_pattern():
    out, _ = run(PATTERN)
    assert "y = my_own.conv2d(x, x)" in out and "return my_own.linear(y, y)" in out
    assert "QuantizerStub" not in out


def test_auto_import_returns_the_generated_module():
    _, stdout = run(AUTO_IMPORT)
    assert "auto_import ok" in stdout


def test_add_rejects_what_it_cannot_name():
    sys.path.insert(0, RUNTIME)
    from fastforward.autoquant import OperatorTable

    table = OperatorTable.from_yaml()
    for bad in (lambda x: x, "not a.dotted-name", 3):
        try:
            table.add("f(x: Quantized) -> Quantized", bad)
        except (ValueError, TypeError):
            pass
        else:
            raise AssertionError("add accepted %r" % (bad,))


def main():
    tests = [(n, v) for n, v in sorted(globals().items()) if n.startswith("test_")]
    passed = failed = 0
    for name, test in tests:
        try:
            test()
        except Exception:  # noqa: BLE001
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("PASS %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

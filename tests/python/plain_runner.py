"""What the tests/python/test_*.py files share: skipping, per-test isolation of fastforward's
global state, and the plain runner that `python3 tests/python/test_x.py` (and meson) uses
when pytest is not driving.

    from plain_runner import Skipped, isolation, run, skip

    setup_function, teardown_function = isolation(strict=False)

    if __name__ == "__main__":
        sys.exit(run(globals()))
"""

import sys
import traceback


class Skipped(Exception):
    """Raised by skip() (or directly) when a test cannot run here; the plain runner reports it."""


def skip(reason):
    """Skip the running test: pytest's skip under pytest, Skipped under the plain runner."""
    if "pytest" in sys.modules:
        import pytest

        pytest.skip(reason)
    raise Skipped(reason)


def isolation(strict=None):
    """(setup_function, teardown_function): each test runs with fastforward's global state
    (flags, dispatcher registrations, torch's default dtype and threads) as at its start and
    leaves it so (fastforward.testing.isolated_state); with ``strict`` not None, strict
    quantization is set to it at the start of each test. pytest calls the two around every
    test of a module that binds them; run() does the same."""
    import fastforward as ff
    from fastforward.testing import isolated_state

    stack = []

    def setup_function(function=None):
        stack.append(isolated_state())
        stack[-1].__enter__()
        if strict is not None:
            ff.set_strict_quantization(strict)

    def teardown_function(function=None):
        stack.pop().__exit__(None, None, None)

    return setup_function, teardown_function


def run(namespace, describe=None):
    """Run every ``test_*`` function of a module's ``namespace`` (its globals()) in order,
    around its setup_function / teardown_function, printing PASS / FAIL / SKIP per test, then
    the Python and torch versions (and ``describe()``, when given, after a comma) and the
    counts. Returns 1 if any failed, 77 (meson's skip) if every test skipped, else 0."""
    import torch

    setup = namespace.get("setup_function", lambda function=None: None)
    teardown = namespace.get("teardown_function", lambda function=None: None)
    tests = [(n, v) for n, v in list(namespace.items()) if n.startswith("test_") and callable(v)]
    passed = failed = skipped = 0
    for name, test in tests:
        setup(test)
        try:
            test()
        except Skipped as reason:
            skipped += 1
            print("SKIP %s: %s" % (name, reason))
        except Exception:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("PASS %s" % name)
        teardown(test)
    extra = ", " + describe() if describe is not None else ""
    print("python %s, torch %s%s" % (sys.version.split()[0], torch.__version__, extra))
    print("%d passed, %d failed%s" % (passed, failed, ", %d skipped" % skipped if skipped else ""))
    if failed:
        return 1
    return 77 if skipped and not passed else 0

#!/usr/bin/env python3
"""Per-stage goldens: tests/dumps/cases/<name>.py run with --dump=STAGE must
print exactly tests/dumps/expected/<name>.<stage> (standard output only; the
notes on standard error are the snapshot tests' business).

    python3 tests/dumps.py build/src/ffq
    FFQ_UPDATE_SNAPSHOTS=1 python3 tests/dumps.py build/src/ffq   # rewrite expectations
"""
import difflib
import os
import subprocess
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dumps")
CASES = os.path.join(HERE, "cases")
EXPECTED = os.path.join(HERE, "expected")
STAGES = ("program", "types", "plan")


def run(ffq, name, stage):
    proc = subprocess.run([ffq, "autoquant", name + ".py", "--module", "dumps." + name,
                           "--dump=" + stage], cwd=CASES, capture_output=True, timeout=60)
    if proc.returncode != 0:
        return None, proc.stderr.decode("utf-8", "replace")
    return proc.stdout.decode("utf-8"), None


def main():
    ffq = os.path.abspath(sys.argv[1])
    update = os.environ.get("FFQ_UPDATE_SNAPSHOTS") == "1"
    names = sorted(f[:-3] for f in os.listdir(CASES) if f.endswith(".py"))
    passed = total = 0
    for name in names:
        for stage in STAGES:
            total += 1
            label = "%s.%s" % (name, stage)
            out, err = run(ffq, name, stage)
            if out is None:
                print("FAIL %s: ffq failed\n%s" % (label, err))
                continue
            if run(ffq, name, stage)[0] != out:
                print("FAIL %s: two runs differ (the dump is not deterministic)" % label)
                continue
            path = os.path.join(EXPECTED, label)
            if update:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(out)
            with open(path, encoding="utf-8") as f:
                want = f.read()
            if want != out:
                print("FAIL %s\n%s" % (label, "".join(difflib.unified_diff(
                    want.splitlines(True), out.splitlines(True), "expected/" + label, "actual/" + label))))
                continue
            passed += 1
    print("%d/%d passed" % (passed, total))
    return 0 if passed == total and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

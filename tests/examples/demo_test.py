"""The README's demo (examples/demo/run.py) end to end, with fewer timing repetitions.

Checks what the demo claims: the generated file is kept, W8A8 stays within a point of the
float accuracy, 4-bit weights cost SQNR and shrink the model more, W8A8 runs its layers on
the integer kernels (when libffqrt is loaded) while W4A8 reports n/a, and the PNG is written.
Needs scikit-learn and matplotlib (scripts/test installs them). Ends with "N passed, M failed".
"""

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "examples", "demo"))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import run  # noqa: E402
from fastforward import _ffqrt  # noqa: E402


def main():
    failures = []

    def check(cond, what):
        print("%s %s" % ("PASS" if cond else "FAIL", what))
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as out:
        results, sqnr = run.main(["--out", out, "--quick"])
        by = {r["setting"]: r for r in results}
        check(os.path.isfile(os.path.join(out, "quantized_digits_net.py")), "generated file kept")
        png = os.path.join(out, "demo_results.png")
        check(os.path.isfile(png) and os.path.getsize(png) > 20000, "figure written")
        with open(png, "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", "figure is a PNG")
    float_acc = results[0]["float_acc"]
    check(float_acc > 90.0, "float model is trained (%.2f%%)" % float_acc)
    for s in ("W8A8 min-max", "W8A8 output-MSE"):
        check(abs(by[s]["acc"] - float_acc) <= 1.0, "%s within 1 point of float" % s)
        check(min(sqnr[s].values()) > 30.0, "%s per-layer SQNR above 30 dB" % s)
    check(all(sqnr["W4A8 per-group"][n] < sqnr["W8A8 min-max"][n] - 6.0 for n in run.LAYERS),
          "4-bit weights lose more than 6 dB in every layer")
    check(by["W4A8 per-group"]["size"] < by["W8A8 min-max"]["size"] < results[0]["float_size"] / 3.5,
          "sizes: W4 < W8 < float / 3.5")
    check(by["W4A8 per-group"]["t_int"] is None, "W4A8: integer path reported n/a")
    if _ffqrt.available():
        check(by["W8A8 min-max"]["int_ops"][0] == len(run.LAYERS) and by["W8A8 min-max"]["t_int"] > 0,
              "W8A8: all layers on the integer kernels")
    else:
        print("SKIP integer-path check: libffqrt is not loaded")
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

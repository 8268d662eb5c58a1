"""Quanto's workflow with ffq: quantize -> calibrate -> freeze, on the demo's digits model.

    python3 examples/quanto_flow.py

``ff.quantize`` runs ffq autoquant on the model's classes, converts the model and puts
symmetric int8 quantizers on the weights (per output channel) and activations (per tensor);
``ff.calibration`` records activation ranges on held-out images; ``ff.freeze`` stores the
weights as integers. Prints the accuracy at each step; exit status 1 if int8 loses more
than 1.5 points or freezing changes the result.
"""

import copy
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "demo"))
try:
    import fastforward as ff
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "runtime", "python"))
    import fastforward as ff

import torch  # noqa: E402
from data import load_digits_split  # noqa: E402
from digits_net import DigitsNet  # noqa: E402


def accuracy(model, x, y):
    with torch.no_grad():
        out = model(x)
    out = out.dequantize() if type(out) is not torch.Tensor else out
    return float((out.argmax(1) == y).float().mean()) * 100.0


def main():
    data = load_digits_split()
    x_cal, _ = data["calibration"]
    x_test, y_test = data["test"]
    model = DigitsNet()
    model.load_state_dict(torch.load(os.path.join(HERE, "demo", "digits_net.pt")))
    model.eval()
    float_acc = accuracy(model, x_test, y_test)
    ff.set_strict_quantization(False)

    qmodel = copy.deepcopy(model)
    ff.quantize(qmodel, weights="int8", activations="int8")          # quanto.quantize
    with ff.calibration(qmodel):                                     # quanto.Calibration
        for i in range(0, len(x_cal), 50):
            qmodel(x_cal[i:i + 50])
    calibrated = accuracy(qmodel, x_test, y_test)
    ff.freeze(qmodel)                                                # quanto.freeze
    frozen = accuracy(qmodel, x_test, y_test)
    print("model class after ff.quantize: %s" % type(qmodel).__name__)
    print("accuracy: float %.2f%%, int8 calibrated %.2f%%, frozen %.2f%%" % (float_acc, calibrated, frozen))
    print("fc1 weight after freeze: %s" % (qmodel.fc1.weight_quantizer.int_weight.dtype,))
    ok = abs(calibrated - float_acc) <= 1.5 and frozen == calibrated
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

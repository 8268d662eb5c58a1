"""TorchQuant's workflow with ffq: Q-format quantizers, observers and the mode switch, on the
demo's digits model.

    python3 examples/torchquant_flow.py

Every weight (per output channel) and activation gets an 8-bit fixed-point
``QFormatQuantizer`` (scale 2^-frac_bits); CALIBRATE mode records ranges with an
exponential-average observer, QUANT_AWARE_TRAIN fine-tunes one epoch, QUANTIZED_EVAL
evaluates. Exit status 1 if the calibrated accuracy is more than 2 points below float.
"""

import copy
import os
import sys
import tempfile

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
from fastforward.nn import QFormatQuantizer  # noqa: E402
from train import train  # noqa: E402


def accuracy(model, x, y):
    with torch.no_grad():
        out = model(x)
    out = out.dequantize() if type(out) is not torch.Tensor else out
    return float((out.argmax(1) == y).float().mean()) * 100.0


def main():
    torch.set_num_threads(1)
    data = load_digits_split()
    x_cal, _ = data["calibration"]
    x_test, y_test = data["test"]
    model = DigitsNet()
    model.load_state_dict(torch.load(os.path.join(HERE, "demo", "digits_net.pt")))
    model.eval()
    float_acc = accuracy(model, x_test, y_test)
    ff.set_strict_quantization(False)

    with tempfile.TemporaryDirectory() as d:
        ff.autoquantize(model, output_path=os.path.join(d, "quantized_digits_net.py"), auto_import=True)
    qmodel = ff.quantize_model(copy.deepcopy(model))
    config = ff.QuantizationConfig()
    config.add_rule("**/[quantizer:parameter/weight]", QFormatQuantizer, num_bits=8, granularity=ff.PerChannel(0))
    config.add_rule("**/[quantizer:activation]", QFormatQuantizer, num_bits=8)
    config.initialize(qmodel)

    ff.set_qmodule_state(qmodel, ff.QModuleState.CALIBRATE, observer=ff.range_setting.ExpAvgMinMax(0.9))
    for i in range(0, len(x_cal), 50):
        qmodel(x_cal[i:i + 50])
    ff.set_qmodule_state(qmodel, ff.QModuleState.QUANTIZED_EVAL)
    calibrated = accuracy(qmodel, x_test, y_test)

    ff.set_qmodule_state(qmodel, ff.QModuleState.QUANT_AWARE_TRAIN, observer=ff.range_setting.BatchMinMax)
    x_train, y_train = data["train"]
    train(qmodel, x_train, y_train, epochs=1, lr=3e-4, seed=1)
    ff.set_qmodule_state(qmodel, ff.QModuleState.QUANTIZED_EVAL)
    after = accuracy(qmodel, x_test, y_test)
    with ff.qmodule_state(qmodel, ff.QModuleState.FLOAT):
        as_float = accuracy(qmodel, x_test, y_test)
    print("accuracy: float %.2f%%, Q-format 8-bit calibrated %.2f%%, after 1 epoch QAT %.2f%%, "
          "FLOAT mode %.2f%%" % (float_acc, calibrated, after, as_float))
    ok = calibrated >= float_acc - 2.0 and after >= float_acc - 2.0
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

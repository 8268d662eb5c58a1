"""The quantization workflow on a real trained model: a small CNN trained on scikit-learn's
bundled 8x8 digits (no download, seconds of CPU).

    python3 tests/python/digits_workflow.py          # needs scikit-learn
    /usr/bin/python3 tests/python/digits_workflow.py # Debian: python3-sklearn

Checks and prints:
* float accuracy vs W8A8 (per-channel symmetric weights, per-tensor activations, running
  min-max calibration): within 1 point;
* W4 per-channel weights, min-max vs layer-by-layer output-MSE range setting: the output MSE
  (logits vs float) is clearly lower with output-MSE;
* QAT from the W4 min-max model: the loss goes down;
* freeze: int8 state at least 3.5x smaller, same outputs;
* save -> load into a fresh quantize_model-ed copy -> identical outputs;
* the Quanto-style flow (fastforward.quantize / calibration / freeze, through ffq) and the
  TorchQuant-style flow (Q-format quantizers, observers, mode switch).

Ends with "N passed, M failed"; the figures go to standard output ("figure: ...").
"""

import copy
import os
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward.nn import LinearQuantizer, QFormatQuantizer  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from fastforward.range_setting import running_minmax  # noqa: E402
from fastforward.range_setting.output_mse import set_weight_ranges_by_output_mse  # noqa: E402

try:
    import digits_model as dm
    dm.load_data  # noqa: B018
    import sklearn  # noqa: F401
except ImportError as e:  # pragma: no cover
    print("SKIP digits workflow: %s" % e)
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(0)

torch.set_num_threads(1)
FIGURES = []


def figure(name, value):
    FIGURES.append((name, value))
    print("figure: %s = %s" % (name, value))


def setup():
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = dm.load_data()
    model = dm.DigitsCNN()
    t0 = time.process_time()
    dm.train(model, x_train, y_train)
    figure("training CPU seconds", "%.1f" % (time.process_time() - t0))
    return model, (x_train, y_train, x_test, y_test)


FLOAT, DATA = setup()
X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = DATA
CALIB = [X_TRAIN[i:i + 128] for i in range(0, 512, 128)]
FLOAT_ACC = dm.accuracy(FLOAT, X_TEST, Y_TEST)
FLOAT_LOGITS = dm.logits(FLOAT, X_TEST)
figure("float accuracy (%)", "%.2f" % FLOAT_ACC)


def converted():
    """A quantize_model-ed copy of the float model (the CNN class and AvgPool2d, which
    have no quantized class without ffq, run as float surrogates)."""
    model = copy.deepcopy(FLOAT)
    return ff.quantize_model(model, extra_conversion=ff.surrogate_quantized_modules(model))


def weights(model, bits, **kw):
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(
        LinearQuantizer, num_bits=bits, symmetric=True, allow_one_sided=False, granularity=ff.PerChannel(0), **kw)
    return model


def calibrate(model):
    with ff.estimate_ranges(model, running_minmax):
        for x in CALIB:
            model(x)
    return model


def output_mse(model):
    return float(((dm.logits(model, X_TEST) - FLOAT_LOGITS) ** 2).mean())


def w8a8():
    model = weights(converted(), 8)
    ff.find_quantizers(model, "**/[quantizer:activation]").initialize(LinearQuantizer, num_bits=8, symmetric=False)
    return calibrate(model)


def test_w8a8_accuracy_within_one_point_of_float():
    model = w8a8()
    assert isinstance(model(X_TEST[:2]), QuantizedTensor)
    acc = dm.accuracy(model, X_TEST, Y_TEST)
    figure("W8A8 accuracy (%)", "%.2f" % acc)
    assert abs(acc - FLOAT_ACC) <= 1.0, (acc, FLOAT_ACC)


def test_w4_output_mse_beats_min_max():
    minmax = calibrate(weights(converted(), 4))
    mse = calibrate(weights(converted(), 4))
    chosen = set_weight_ranges_by_output_mse(mse, CALIB[:2], num_candidates=30)
    assert sorted(chosen) == ["conv1", "conv2", "fc1", "fc2"]
    e_minmax, e_mse = output_mse(minmax), output_mse(mse)
    a_minmax, a_mse = dm.accuracy(minmax, X_TEST, Y_TEST), dm.accuracy(mse, X_TEST, Y_TEST)
    figure("W4 min-max: accuracy (%) / logits MSE vs float", "%.2f / %.4f" % (a_minmax, e_minmax))
    figure("W4 output-MSE: accuracy (%) / logits MSE vs float", "%.2f / %.4f" % (a_mse, e_mse))
    assert e_mse < 0.5 * e_minmax, (e_mse, e_minmax)
    assert a_mse >= a_minmax - 1.0


def test_qat_loss_goes_down():
    # Post-training quantized W3A4 (min-max) loses accuracy; fine-tuning weights (lr 3e-4)
    # and the quantizers' scales and offsets (lr 1e-4) through the straight-through
    # gradients recovers it.
    model = calibrate(weights(converted(), 3))
    ff.find_quantizers(model, "**/[quantizer:activation]").initialize(LinearQuantizer, num_bits=4, symmetric=False)
    calibrate(model)
    quant_params = [p for n, p in model.named_parameters() if n.endswith((".scale", ".offset"))]
    assert len(quant_params) >= 12 and all(p.requires_grad for p in quant_params)
    ids = {id(p) for p in quant_params}
    groups = [{"params": [p for p in model.parameters() if id(p) not in ids]},
              {"params": quant_params, "lr": 1e-4}]
    scale_before = model.fc1.weight_quantizer.scale.detach().clone()
    before = dm.accuracy(model, X_TEST, Y_TEST)
    losses = dm.train(model, X_TRAIN, Y_TRAIN, epochs=5, lr=3e-4, seed=1, params=groups)
    after = dm.accuracy(model, X_TEST, Y_TEST)
    figure("QAT (W3A4) loss per epoch", ", ".join("%.4f" % v for v in losses))
    figure("QAT (W3A4) accuracy before / after (%)", "%.2f / %.2f" % (before, after))
    assert losses[-1] < losses[0], losses
    assert not torch.equal(model.fc1.weight_quantizer.scale.detach(), scale_before)  # scales learned
    assert after >= before, (before, after)


def _bytes(sd):
    return sum(v.numel() * v.element_size() for v in sd.values() if isinstance(v, torch.Tensor))


def test_freeze_shrinks_the_state_and_keeps_outputs():
    model = w8a8()
    before = dm.logits(model, X_TEST)
    ff.freeze(model)
    assert torch.equal(dm.logits(model, X_TEST), before)
    ratio = _bytes(FLOAT.state_dict()) / _bytes(model.state_dict())
    figure("int8-frozen state size ratio (float / frozen)", "%.2f" % ratio)
    assert ratio >= 3.5, ratio


def test_save_load_round_trip_is_identical():
    model = w8a8()
    expected = dm.logits(model, X_TEST)
    fresh = converted()
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(dm.logits(fresh, X_TEST), expected)
    with tempfile.TemporaryDirectory() as d:
        ff.save_quantization_state(model, name_or_path="digits-cnn", cache_dir=d)
        again = converted()
        ff.load_quantization_state(again, name_or_path="digits-cnn", cache_dir=d)
        assert torch.equal(dm.logits(again, X_TEST), expected)
        torch.save(model.state_dict(), os.path.join(d, "model.pt"))
        third = converted()
        third.load_state_dict(torch.load(os.path.join(d, "model.pt")))
        assert torch.equal(dm.logits(third, X_TEST), expected)


def _have_ffq():
    from fastforward._autoquantize import FfqError, find_ffq

    try:
        return os.path.exists(find_ffq())
    except FfqError:
        return False


def test_quanto_style_flow():
    use_ffq = _have_ffq()
    model = copy.deepcopy(FLOAT)
    ff.quantize(model, weights="int8", activations="int8", use_ffq=use_ffq)
    if use_ffq:
        assert type(model).__name__ == "QuantizedDigitsCNN" and type(model.pool).__name__ == "QuantizedAvgPool2d"
    weights_only = dm.accuracy(model, X_TEST, Y_TEST)  # activations pass through until calibrated
    with ff.calibration(model):
        for x in CALIB:
            model(x)
    acc = dm.accuracy(model, X_TEST, Y_TEST)
    ff.freeze(model)
    frozen = dm.accuracy(model, X_TEST, Y_TEST)
    figure("Quanto-style int8/int8 (ffq %s): weights only / calibrated / frozen accuracy (%%)"
           % ("on" if use_ffq else "off"), "%.2f / %.2f / %.2f" % (weights_only, acc, frozen))
    assert abs(acc - FLOAT_ACC) <= 1.5 and frozen == acc
    # int4 weights (per group of 32 where the shape allows), include/exclude
    model4 = copy.deepcopy(FLOAT)
    ff.quantize(model4, weights="int4", exclude="conv1", use_ffq=use_ffq)
    assert type(model4.conv1.weight_quantizer).__name__ == "QuantizerStub"
    g = model4.fc1.weight_quantizer.granularity
    assert type(g).__name__ == "PerBlock", g
    acc4 = dm.accuracy(model4, X_TEST, Y_TEST)
    figure("Quanto-style int4 weights (conv1 excluded) accuracy (%)", "%.2f" % acc4)
    assert acc4 >= FLOAT_ACC - 5.0


def test_torchquant_style_flow():
    model = converted()
    cfg = ff.QuantizationConfig()
    cfg.add_rule("**/[quantizer:parameter/weight]", QFormatQuantizer, num_bits=8, granularity=ff.PerChannel(0))
    cfg.add_rule("**/[quantizer:activation]", QFormatQuantizer, num_bits=8)
    cfg.initialize(model)
    with ff.qmodule_state(model, ff.QModuleState.CALIBRATE, observer=ff.range_setting.ExpAvgMinMax(0.9)):
        for x in CALIB:
            out = model(x)
        assert not isinstance(out, QuantizedTensor)
    ff.set_qmodule_state(model, ff.QModuleState.QUANTIZED_EVAL)
    acc = dm.accuracy(model, X_TEST, Y_TEST)
    scales = {float(2.0 ** -f) for f in model.fc1.input_quantizer.frac_bits}
    assert all(s == 2.0 ** round(torch.log2(torch.tensor(s)).item()) for s in scales)
    ff.set_qmodule_state(model, ff.QModuleState.QUANT_AWARE_TRAIN, observer=ff.range_setting.BatchMinMax)
    losses = dm.train(model, X_TRAIN, Y_TRAIN, epochs=2, lr=5e-4, seed=2)
    ff.set_qmodule_state(model, ff.QModuleState.QUANTIZED_EVAL)
    after = dm.accuracy(model, X_TEST, Y_TEST)
    figure("TorchQuant-style Q-format 8-bit: accuracy after calibration / after QAT (%)", "%.2f / %.2f" % (acc, after))
    figure("TorchQuant-style QAT loss per epoch", ", ".join("%.4f" % v for v in losses))
    assert abs(acc - FLOAT_ACC) <= 2.0, (acc, FLOAT_ACC)
    with ff.qmodule_state(model, ff.QModuleState.FLOAT):
        assert not isinstance(model(X_TEST[:4]), QuantizedTensor)  # quantizers pass data through


def main():
    ff.set_strict_quantization(False)
    tests = [(n, v) for n, v in list(globals().items()) if n.startswith("test_") and callable(v)]
    passed = failed = 0
    for name, test in tests:
        t0 = time.process_time()
        try:
            test()
        except Exception:  # noqa: BLE001
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("PASS %s (%.1f s CPU)" % (name, time.process_time() - t0))
    print("python %s, torch %s" % (sys.version.split()[0], torch.__version__))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

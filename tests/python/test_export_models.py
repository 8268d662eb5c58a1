"""Export (format="onnx_qdq") of the constructions real model code uses that broke it: each
test is a hand-written module reproducing one class of failure found by exporting timm,
torchvision and transformers models (see docs/export.md). Shares test_export's helpers.

    FFQ_BINARY=build/src/ffq python3 tests/python/test_export_models.py
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from plain_runner import isolation, run, skip  # noqa: E402
from test_export import MISSING, check_export, needs_ffq, needs_onnx, nodes, ort_available, run_ort  # noqa: E402

if not MISSING:
    import numpy as np

    from fastforward.export import export


def calibrated(model, x, **quantize):
    ff.quantize(model, **(quantize or {"weights": 8, "activations": 8}))
    with torch.no_grad(), ff.calibration(model):
        for _ in range(4):
            model(torch.randn_like(x))
    return model


def test_grouped_query_attention():
    """F.scaled_dot_product_attention(..., enable_gqa=True) has no ONNX form in torch's
    exporter ("conversion of scaled_dot_product_attention not implemented if enable_gqa is
    True": every transformers Llama / Mistral / Qwen model with fewer key-value heads); the
    export repeats the key / value heads while it traces. Quantized and float."""
    needs_onnx()
    needs_ffq()
    from export_models import GroupedQueryAttention

    q, kv = torch.randn(1, 4, 3, 8), torch.randn(1, 2, 3, 8)
    try:
        torch.nn.functional.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
    except (TypeError, AttributeError):
        skip("torch %s has no enable_gqa" % torch.__version__)
    torch.manual_seed(3)
    model = GroupedQueryAttention().eval()
    x = torch.randn(2, 6, 32)
    with torch.no_grad():
        float_ref = model(x).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        art = export(model, (x,), tmp, "gqa_float", format="onnx_qdq")  # no quantizer at all
        if ort_available():
            assert np.allclose(run_ort(art.path, (x,), False), float_ref, atol=1e-5)
    calibrated(model, x)
    with tempfile.TemporaryDirectory() as tmp:
        check_export(model, (x,), tmp, "gqa")
        with ff.disable_quantization(model):
            art = export(model, (x,), tmp, "gqa_off", format="onnx_qdq")
        assert not nodes(art.path, "QuantizeLinear")
        if ort_available():
            assert np.allclose(run_ort(art.path, (x,), False), float_ref, atol=1e-5)
    # the trace's stand-in is gone again
    assert torch.nn.functional.scaled_dot_product_attention.__module__ != "fastforward.export._onnx"


setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals()))

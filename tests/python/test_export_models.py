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
from fastforward.exceptions import ExportError  # noqa: E402
from plain_runner import isolation, run, skip  # noqa: E402
from test_export import (MISSING, check_export, needs_ffq, needs_onnx, nodes, ort_available,  # noqa: E402
                         output_step, run_ort, value)

if not MISSING:
    import numpy as np
    import onnx
    import onnx.numpy_helper

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


def test_int8_activations_at_opset_21_run_in_ort():
    """At opset 21, ONNX Runtime 1.31's default optimisation moves an int8 QDQ pair through a
    Reshape / Transpose into a QuantizeLinear with output_dtype INT8, then turns its zero point
    into uint8 and fails to load the graph. 8-bit grids without offset are written as uint8
    with zero point 128 there (the same levels); below opset 21 as int8 with zero point 0."""
    needs_onnx()
    needs_ffq()
    if int(torch.__version__.split(".")[0]) < 2:
        skip("torch %s's exporter stops at opset 17" % torch.__version__)
    from export_models import ReshapedMLP

    torch.manual_seed(5)
    model = calibrated(ReshapedMLP().eval(), torch.randn(2, 3, 16), weights=4, activations=8)
    x = torch.randn(2, 3, 16)
    with tempfile.TemporaryDirectory() as tmp:
        for opset, kind, zp in ((17, onnx.TensorProto.INT8, 0), (21, onnx.TensorProto.UINT8, 128)):
            art = export(model, (x,), tmp, "m%d" % opset, format="onnx_qdq", opset_version=opset)
            proto = onnx.load(art.path)
            onnx.checker.check_model(proto, full_check=True)
            inits = {t.name: t for t in proto.graph.initializer}
            for node in proto.graph.node:
                if node.op_type == "QuantizeLinear":
                    assert inits[node.input[2]].data_type == kind, (opset, node.name)
                    assert int(onnx.numpy_helper.to_array(inits[node.input[2]])) == zp
            if ort_available():
                with torch.no_grad():
                    ref = value(model(x)).numpy()
                step = output_step(model, x)
                for optimize in (False, True):  # (the optimised session failed to load)
                    err = float(np.abs(run_ort(art.path, (x,), optimize) - ref).max())
                    assert err <= step * 1.0001, (opset, optimize, err / step)


def test_weights_stored_in_out_export_as_qdq_not_as_qnn_encodings():
    """ff.quantize scales a weight that torch.addmm reads as [in, out] (GPT-2's Conv1D) per
    output column, dim 1: the QDQ file has it as a DequantizeLinear along axis 1 and runs as
    the simulated model does; QNN encodings hold a parameter's channels along its first
    dimension only, so they refuse it (naming the quantizer) and write nothing."""
    needs_onnx()
    needs_ffq()
    from export_models import Conv1DMLP

    torch.manual_seed(9)
    x = torch.randn(2, 5, 64)
    model = calibrated(Conv1DMLP().eval(), x)
    assert model.c_fc.quantizer_self_weight.granularity == ff.PerChannel(1)
    with tempfile.TemporaryDirectory() as tmp:
        check_export(model, (x,), tmp, "conv1d")
        path = os.path.join(tmp, "conv1d.onnx")
        axes = sorted({a.i for n in nodes(path, "DequantizeLinear") for a in n.attribute if a.name == "axis"})
        assert axes == [1], axes
    with tempfile.TemporaryDirectory() as tmp:
        try:
            export(model, (x,), tmp, "conv1d")
        except ExportError as exc:
            assert "quantizer_self_weight" in str(exc) and "dimension 1" in str(exc) and "onnx_qdq" in str(exc), str(exc)
        else:
            raise AssertionError("QNN encodings took per-channel scales along dimension 1")
        assert not os.listdir(tmp)


def test_per_block_weights_at_opset_21():
    """ff.quantize's 4-bit weights are per block (32 inputs of a row each). Before opset 21
    ONNX has no per-block scales: an ExportError naming the quantizer and the opset that has
    them. From opset 21 they are a DequantizeLinear with block_size over INT4 integers, the
    same values as the simulated model; so are frozen ones, and a weight quantized per
    channel over two dimensions (blocks along the others, the scales repeated)."""
    needs_onnx()
    needs_ffq()
    from export_models import WideMLP

    from fastforward.nn import LinearQuantizer

    torch.manual_seed(6)
    x = torch.randn(4, 4, 16)
    model = calibrated(WideMLP().eval(), x, weights=4, activations=8)
    granularity = model.up.weight_quantizer.granularity
    assert type(granularity).__name__ == "PerBlock", granularity
    with tempfile.TemporaryDirectory() as tmp:
        try:
            export(model, (x,), tmp, "w4", format="onnx_qdq")
        except ExportError as exc:
            assert "up.weight_quantizer" in str(exc) and "opset_version=21" in str(exc), str(exc)
        else:
            raise AssertionError("per-block weights exported at opset 17")
        assert not os.listdir(tmp)
        if int(torch.__version__.split(".")[0]) < 2:
            skip("torch %s's exporter stops at opset 17" % torch.__version__)
        for name in ("w4", "frozen", "channels"):
            if name == "frozen":
                ff.freeze(model)
            if name == "channels":
                model = calibrated(WideMLP().eval(), x, weight_quantizer=lambda module: LinearQuantizer(
                    8, symmetric=True, granularity=ff.PerChannel((0, 1))), activations=8)
            art = export(model, (x,), tmp, name, format="onnx_qdq", opset_version=21)
            proto = onnx.load(art.path)
            onnx.checker.check_model(proto, full_check=True)
            inits = {t.name: t for t in proto.graph.initializer}
            blocked = {}
            for node in proto.graph.node:
                attrs = {a.name: a.i for a in node.attribute}
                if node.op_type == "DequantizeLinear" and "block_size" in attrs:
                    blocked[tuple(inits[node.input[0]].dims)] = (
                        attrs["axis"], attrs["block_size"], tuple(inits[node.input[1]].dims),
                        inits[node.input[0]].data_type)
            if name == "channels":  # conv weight [8, 4, 3]: blocks of 3 along its last dimension;
                eight = onnx.TensorProto.INT8  # a matrix's two dimensions: one scale per element
                assert blocked == {(8, 4, 3): (2, 3, (8, 4, 1), eight), (64, 128): (1, 1, (64, 128), eight),
                                   (8, 64): (1, 1, (8, 64), eight)}, blocked
            else:
                four = onnx.TensorProto.INT4
                assert blocked == {(64, 128): (1, 32, (64, 4), four), (8, 64): (1, 32, (8, 2), four)}, blocked
            if ort_available():
                with torch.no_grad():
                    ref = value(model(x)).numpy()
                step = output_step(model, x)
                for optimize in (False, True):
                    err = float(np.abs(run_ort(art.path, (x,), optimize) - ref).max())
                    assert err <= step * 1.0001, (name, optimize, err / step)


def test_relu_before_a_4bit_grid_is_a_warning():
    """ONNX Runtime 1.31's default optimisation removes a Relu in front of a 4-bit
    QuantizeLinear whatever its zero point, as if it were the grid's lowest level: after a
    symmetric 4-bit quantizer (zero point in the middle) negative values pass the ReLU. The
    export warns with the count; the reference execution is right. A one-sided 4-bit grid
    (asymmetric) does not warn, and ONNX Runtime's default execution is right there."""
    needs_onnx()
    needs_ffq()
    if int(torch.__version__.split(".")[0]) < 2:
        skip("torch %s's exporter stops at opset 17: no 4-bit activations" % torch.__version__)
    import warnings

    from export_models import ReshapedMLP

    from fastforward.nn import LinearQuantizer

    x = torch.randn(2, 3, 16)
    for symmetric in (True, False):
        torch.manual_seed(8)
        model = calibrated(ReshapedMLP().eval(), x, weights=4, activations=lambda name, current: LinearQuantizer(
            4, symmetric=symmetric, allow_one_sided=False))
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            art = export(model, (x,), tmp, "m", format="onnx_qdq", opset_version=21)
            said = [str(w.message) for w in seen if "ReLU output" in str(w.message)]
            assert len(said) == (1 if symmetric else 0), said
            assert not said or said[0].startswith("export: 1 ReLU output quantized on a 4-bit grid")
            if ort_available():
                with torch.no_grad():
                    ref = value(model(x)).numpy()
                step = output_step(model, x) * 1.0001
                assert np.abs(run_ort(art.path, (x,), False) - ref).max() <= step
                fused = float(np.abs(run_ort(art.path, (x,), True) - ref).max())
                assert (fused > step) == symmetric, (symmetric, fused / step)


def test_16bit_activations_at_opset_21():
    """ONNX has INT16 / UINT16 QDQ types from opset 21 (ONNX Runtime 1.31 runs them on the
    CPU); 16-bit activation quantizers (QNN's w8a16) were an ExportError at every opset.
    From opset 21 they are UINT16 pairs with zero point 32768 - r; below it the error names
    the quantizer and the opset that has them. ORT's reference execution within one step of
    the simulated model, layer by layer within one step in both executions."""
    needs_onnx()
    from test_export import check_reference_and_layers, initializer_map

    from fastforward.nn import LinearQuantizer

    torch.manual_seed(11)
    x = torch.randn(16, 12)
    model = torch.nn.Sequential(torch.nn.Linear(12, 24), torch.nn.ReLU(), torch.nn.Linear(24, 6))
    ff.quantize_model(model)
    config = ff.QuantizationConfig()
    config.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8, granularity=ff.PerChannel(0))
    config.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=16, symmetric=False)
    config.add_rule("0/output_quantizer", LinearQuantizer, num_bits=16, symmetric=True)
    config.initialize(model)
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            export(model, (x,), tmp, "a16", format="onnx_qdq")
        except ExportError as exc:
            assert "'0.input_quantizer'" in str(exc) and "16-bit" in str(exc) and "opset 21" in str(exc), str(exc)
        else:
            raise AssertionError("16-bit activations exported at opset 17")
        assert not os.listdir(tmp)
        if int(torch.__version__.split(".")[0]) < 2:
            skip("torch %s's exporter stops at opset 17" % torch.__version__)
        art = export(model, (x,), tmp, "a16", format="onnx_qdq", opset_version=21)
        proto = onnx.load(art.path)
        onnx.checker.check_model(proto, full_check=True)
        inits = initializer_map(proto)
        zero_points = [inits[n.input[2]] for n in proto.graph.node if n.op_type == "QuantizeLinear"]
        assert len(zero_points) == 6 and {z.data_type for z in zero_points} == {onnx.TensorProto.UINT16}
        assert 32768 in [int(onnx.numpy_helper.to_array(z)) for z in zero_points]  # the symmetric one
        check_reference_and_layers(model, x, art.path)


def test_outputs_arguments_and_ops_torch_cannot_export():
    """A model returning an object that is no tensor (transformers' decoders return their
    key / value cache, a DynamicCache, next to the logits) stopped torch's exporter ("Only
    tuples, lists and Variables are supported as JIT inputs/outputs"): the export leaves it
    out of the graph's outputs and warns naming it. torch.diff (no ONNX form in torch's
    exporter) and cumsum of booleans (written as an invalid bool CumSum) are traced as ops
    ONNX has. A number parameter the caller leaves at its default (transformers'
    logits_to_keep=0) stays that number: torch's exporter made it a graph input, traced as
    a tensor (the logits of the first position only). Both formats; the graph's only input
    is x, the logits within one step of the simulated model."""
    needs_onnx()
    needs_ffq()
    import warnings

    from export_models import CachingDecoder

    torch.manual_seed(10)
    x = torch.randn(2, 5, 16)
    model = calibrated(CachingDecoder().eval(), x)
    for fmt in ("onnx_qdq", "onnx"):
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            art = export(model, (x,), tmp, "decoder", format=fmt)
            said = [str(w.message) for w in seen if "left out of the graph" in str(w.message)]
            assert len(said) == 1 and "past_key_values (KeyValueCache)" in said[0], said
            proto = onnx.load(art.path)
            onnx.checker.check_model(proto, full_check=True)
            assert len(proto.graph.output) == 1 and len(proto.graph.input) == 1
            if fmt == "onnx_qdq" and ort_available():
                with torch.no_grad():
                    logits = model(x)["logits"]
                step = float(logits.quant_args().scale)
                for optimize in (False, True):
                    err = float(np.abs(run_ort(art.path, (x,), optimize) - value(logits).numpy()).max())
                    assert err <= step * 1.0001, (optimize, err / step)
    # A forward whose decorator passes a defaulted argument as a keyword (transformers'
    # ELECTRA, RoBERTa: use_cache): torch's exporter passed every default positionally
    # ("forward() got multiple values for argument 'use_cache'").
    from export_models import DecoratedMLP

    model = calibrated(DecoratedMLP().eval(), x)
    with tempfile.TemporaryDirectory() as tmp:
        check_export(model, (x,), tmp, "decorated")
    assert torch.diff is not torch.Tensor.diff and torch.diff.__module__ != "fastforward.export._onnx"
    assert getattr(torch.Tensor.cumsum, "__module__", None) != "fastforward.export._onnx"


setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals()))

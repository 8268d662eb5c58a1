"""Tests of fastforward.export (issue 20): quantized models to ONNX with QuantizeLinear /
DequantizeLinear nodes, checked with onnx.checker and run in ONNX Runtime against the
simulated fastforward model.

Run with a Python that has torch, onnx and onnxruntime (ffq's scripts install the pinned
onnx and onnxruntime for the PyPI torch, and Debian's python3-onnx for torch 1.13)::

    FFQ_BINARY=build/src/ffq python3 tests/python/test_export.py

Ends with "N passed, M failed[, K skipped]"; exits nonzero when a test failed. Without onnx
every test skips with that reason; without onnxruntime (Debian has no package of it, so on
torch 1.13) the files are exported and checked but not run, and a note says so.
"""

import json
import os
import sys
import tempfile
import warnings
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward.exceptions import ExportError  # noqa: E402
from fastforward.nn import DynamicLinearQuantizer, LinearQuantizer, Quantizer  # noqa: E402
from fastforward.quantization.function import QuantizationFunction  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from plain_runner import isolation, run, skip  # noqa: E402

try:
    import numpy as np
    import onnx
    import onnx.numpy_helper

    from fastforward.export import export
    MISSING = None
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    MISSING = "%s (torch %s)" % (exc, torch.__version__)
try:
    import onnxruntime as ort
    NO_ORT = None
except ImportError as exc:  # Debian has no onnxruntime package: export and check only
    NO_ORT = "%s (torch %s)" % (exc, torch.__version__)

warnings.filterwarnings("ignore", category=RuntimeWarning, message=".*libffqrt.*")


def needs_onnx():
    if MISSING:
        skip("onnx not importable: %s" % MISSING)


def needs_ort():
    if NO_ORT:
        skip("onnxruntime not importable: %s" % NO_ORT)


_noted = []


def ort_available():
    """Whether ONNX Runtime can run the comparisons (noted once when it cannot)."""
    if NO_ORT and not _noted:
        _noted.append(True)
        print("NOTE onnxruntime is missing here (%s): files are exported and checked with "
              "onnx.checker, the ONNX Runtime comparisons are left out" % NO_ORT)
    return not NO_ORT


def needs_ffq():
    binary = os.environ.get("FFQ_BINARY") or os.path.join(REPO, "build", "src", "ffq")
    if not os.access(binary, os.X_OK):
        skip("no ffq executable (build it, or set FFQ_BINARY)")


# --- helpers -----------------------------------------------------------------------------------


def value(t):
    return t.dequantize() if isinstance(t, QuantizedTensor) else t


def output_step(model, x):
    """The scale of the quantizer that produced the model's output (the per-element tolerance)."""
    with torch.no_grad():
        out = model(x)
    assert isinstance(out, QuantizedTensor), "the model's output is not quantized"
    scale = out.quant_args().scale
    assert scale.numel() == 1
    return float(scale.detach())


def run_ort(path, inputs, optimize):
    options = ort.SessionOptions()
    options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)}
    return session.run(None, feed)[0]


def nodes(path, op_type):
    return [n for n in onnx.load(path).graph.node if n.op_type == op_type]


def check_export(model, inputs, tmp, name, fused_steps=1, ref_steps=1):
    """Export, check, run in ORT, compare with the simulated model.

    * Free-running: ORT's reference execution (no graph optimisation: QuantizeLinear and
      DequantizeLinear computed as written) within ``ref_steps`` of the output quantizer on
      every element, ORT's optimised execution (QDQ fused into its integer kernels, which
      round the float bias to int32) within ``fused_steps``.
    * Layer by layer, in both executions: every quantized tensor ORT computes from
      fastforward's own integers is within one step of fastforward's
      (check_layer_by_layer).
    * Node by node: every QuantizeLinear of the reference execution gives fastforward's
      integers except exactly where the two rounding formulas differ
      (check_quantize_linear_nodes)."""
    art = export(model, inputs, tmp, name, format="onnx_qdq")
    path = os.path.join(tmp, name + ".onnx")
    assert art.path == path and os.path.isfile(path)
    assert sorted(os.listdir(tmp)) == sorted(f for f in os.listdir(tmp) if not f.endswith(".tmp"))
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    from fastforward import _integer

    # The simulated model (dequantize -> float op -> quantize): the integer path, on by
    # default, may round a tie the other way, one step away.
    with torch.no_grad(), _integer.integer_execution(False):
        ref = value(model(*inputs)).numpy()
    step = output_step(model, inputs[0]) if len(inputs) == 1 else None
    for optimize in ((False, True) if ort_available() else ()):
        got = run_ort(path, inputs, optimize)
        assert got.shape == ref.shape
        err = float(np.abs(got - ref).max())
        steps = fused_steps if optimize else ref_steps
        assert err <= steps * step * 1.0001, "optimize=%s: max error %g is more than %d step(s) of %g" % (
            optimize, err, steps, step)
        check_layer_by_layer(model, inputs, path, optimize)
    if ort_available():
        check_quantize_linear_nodes(model, inputs, path)
    return proto


def activation_quantizer_outputs(model, inputs):
    """(quantizer, integers) of every activation quantizer call of one simulated forward, in
    call order (the order the export writes their QuantizeLinear nodes); the integers are
    fastforward's raw values as int64. Weight quantizers, whose integers are stored, are
    left out."""
    from fastforward import _integer
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    calls = []

    def note(module, args, out):
        # (a quantizer handed None, an absent attention mask, returns it: no node)
        if (args and not isinstance(args[0], torch.nn.Parameter) and not isinstance(module, FrozenWeightQuantizer)
                and isinstance(out, QuantizedTensor)):
            calls.append((module, out.raw_data.detach().numpy().astype(np.int64)))

    hooks = [m.register_forward_hook(note) for m in model.modules() if isinstance(m, Quantizer) and not m.is_stub()]
    try:
        with torch.no_grad(), _integer.integer_execution(False):
            model(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return calls


def activation_quantizer_calls(model, inputs):
    """The activation quantizers of ``model`` in the order one simulated forward calls them."""
    return [module for module, _ in activation_quantizer_outputs(model, inputs)]


# ONNX integer types of QDQ zero points: (numpy type ORT exchanges them as, 2^(bits-1)).
# onnx 1.12 (Debian's, for torch 1.13) has no 4-bit types.
_INTEGER_TYPES = {} if MISSING else {
    getattr(onnx.TensorProto, name): types for name, types in (
        ("INT8", (np.int8, 128)), ("UINT8", (np.uint8, 128)),
        ("INT4", (np.int8, 8)), ("UINT4", (np.uint8, 8)), ("UINT16", (np.uint16, 32768)))
    if hasattr(onnx.TensorProto, name)}


def check_layer_by_layer(model, inputs, path, optimize):
    """ORT fed fastforward's integers at every QuantizeLinear: each QuantizeLinear's output
    becomes a graph input carrying the integers of the fastforward quantizer it came from,
    and what ORT computes there itself becomes a graph output. So every layer of ORT starts
    from the simulated model's exact inputs, and a one-step flip in one layer cannot spread
    into the next ones (on a deep network it does, free-running: docs/export.md). Asserts
    every element of every quantized tensor within one step of fastforward's; returns the
    number of elements one step off per node."""
    proto = onnx.load(path)
    graph = proto.graph
    kinds = {t.name: t.data_type for t in graph.initializer}
    inits = {t.name: onnx.numpy_helper.to_array(t).astype(np.int64) for t in graph.initializer
             if t.data_type in _INTEGER_TYPES}
    q_nodes = [n for n in graph.node if n.op_type == "QuantizeLinear"]
    calls = activation_quantizer_outputs(model, inputs)
    assert len(q_nodes) == len(calls), (len(q_nodes), len(calls))
    feed = {i.name: t.numpy() for i, t in zip(graph.input, inputs)}
    del graph.output[:]
    expected, casts_in, casts_out = [], [], []
    for node, (_, raw) in zip(q_nodes, calls):
        kind = kinds[node.input[2]]
        dtype, half = _INTEGER_TYPES[kind]
        eight_bit = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        zp = inits[node.input[2]]
        r = (half if np.dtype(dtype).kind == "u" else 0) - zp  # fastforward's round(offset)
        ints = raw + r + zp  # ONNX q = raw + r + zp
        name = node.output[0]
        node.output[0] = observed = name + "/ort"
        fed = name
        if kind != eight_bit:  # ORT takes and gives no 4-bit numpy arrays: 8-bit ones, cast
            observed, fed = name + "/ort8", name + "/fed"
            casts_in.append(onnx.helper.make_node("Cast", [fed], [name], to=kind))
            casts_out.append(onnx.helper.make_node("Cast", [node.output[0]], [observed], to=eight_bit))
        graph.output.extend([onnx.helper.make_empty_tensor_value_info(observed)])
        graph.input.extend([onnx.helper.make_tensor_value_info(fed, eight_bit, list(ints.shape))])
        feed[fed] = ints.astype(dtype)
        expected.append(ints)
    nodes = casts_in + list(graph.node) + casts_out
    del graph.node[:]
    graph.node.extend(nodes)
    options = ort.SessionOptions()
    options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    values = session.run(None, feed)
    off = []
    for k, (node, want) in enumerate(zip(q_nodes, expected)):
        diff = np.abs(values[k].astype(np.int64) - want)
        assert diff.max(initial=0) <= 1, (
            "optimize=%s, node %d (%s): %d steps from fastforward on its inputs" % (
                optimize, k, node.input[0], diff.max()))
        off.append(int((diff != 0).sum()))
    return off


def check_reference_and_layers(model, x, path):
    """ONNX Runtime's reference execution of ``path`` within one output step of the model
    on every element, and both executions layer by layer (check_layer_by_layer)."""
    if not ort_available():
        return
    with torch.no_grad():
        ref = value(model(x)).numpy()
    err = float(np.abs(run_ort(path, (x,), False) - ref).max())
    assert err <= output_step(model, x) * 1.0001, err
    for optimize in (False, True):
        check_layer_by_layer(model, (x,), path, optimize)


def check_quantize_linear_nodes(model, inputs, path):
    """ORT's reference execution node by node: every QuantizeLinear, fed ORT's own input,
    computes ONNX's formula ``q = saturate(round(fl(x/s)) + zp)`` exactly, its fastforward
    quantizer computes ``raw = clamp(round(fl(x/s) - r))`` with the rounding exact, and the
    two agree (``q = raw + r + zp``) everywhere but at exact ties with an odd ``r`` (the
    spec's formula rounds ``v - r`` to even, ONNX ``v``), by one step there.
    This checks scale, zero point, storage type and their order in the file independently
    of how a flip in one layer spreads through the next ones. Returns (nodes, elements,
    elements where the formulas differ)."""
    proto = onnx.load(path)
    q_nodes = [n for n in proto.graph.node if n.op_type == "QuantizeLinear"]
    quantizers = activation_quantizer_calls(model, inputs)
    assert len(q_nodes) == len(quantizers), (len(q_nodes), len(quantizers))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    del proto.graph.output[:]
    for node in q_nodes:
        proto.graph.output.extend([onnx.helper.make_empty_tensor_value_info(node.input[0]),
                                   onnx.helper.make_empty_tensor_value_info(node.output[0])])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    values = session.run(None, {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)})
    from fastforward import _integer

    elements = flips = 0
    for k, (node, quantizer) in enumerate(zip(q_nodes, quantizers)):
        x, q = values[2 * k], values[2 * k + 1].astype(np.int64)
        scale, zp = inits[node.input[1]], inits[node.input[2]]
        r = (128 if zp.dtype == np.uint8 else 0) - zp.astype(np.int64)  # fastforward's round(offset)
        with torch.no_grad(), _integer.integer_execution(False):
            raw = quantizer(torch.from_numpy(x)).raw_data.numpy().astype(np.int64)
        diff = q - (raw + r + zp.astype(np.int64))  # ONNX q - zp equals fastforward's raw + r
        elements += diff.size
        where = "node %d (%s)" % (k, node.output[0])
        # What each formula gives on ORT's input of the node: ONNX rounds v = fl(x / s) and
        # adds the zero point (ORT must do exactly that); fastforward rounds v - r exactly
        # (the quantizer must do exactly that: in float64, v - r is exact). They differ
        # exactly where v is a tie and r odd (round half to even on both sides).
        axis = [a.i for a in node.attribute if a.name == "axis"]
        shape = [1] * x.ndim
        if scale.ndim:
            shape[axis[0] if axis else 1] = -1
        s32, r64, zp64 = scale.reshape(shape), np.reshape(r, shape), zp.astype(np.int64).reshape(shape)
        v = (x / s32).astype(np.float32)
        lo, hi = np.iinfo(zp.dtype).min, np.iinfo(zp.dtype).max
        onnx_q = np.clip(np.round(v).astype(np.int64) + zp64, lo, hi)
        assert np.array_equal(q, onnx_q), "%s: ONNX Runtime does not compute ONNX's QuantizeLinear" % where
        ff_raw = np.clip(np.round(v.astype(np.float64) - r64).astype(np.int64),
                         -128, 127)  # 8-bit activations (4-bit ones are not checked here)
        formulas = onnx_q - (ff_raw + r64 + zp64)
        assert np.array_equal(diff, formulas), (
            "%s: %d elements differ from fastforward where the two rounding formulas agree" % (
                where, int((diff != formulas).sum())))
        assert np.array_equal(raw, ff_raw), "%s: fastforward's quantizer is not round(fl(x/s) - r)" % where
        ties = (np.abs(v - np.round(v)) == 0.5) & (np.broadcast_to(r64, v.shape) % 2 == 1)
        assert np.array_equal(formulas != 0, ties), "%s: the formulas differ off the odd-offset ties" % where
        assert np.abs(diff).max(initial=0) <= 1, "%s: %d steps from fastforward" % (where, np.abs(diff).max())
        flips += int((diff != 0).sum())
    return len(q_nodes), elements, flips


def initializer_map(proto):
    return {t.name: t for t in proto.graph.initializer}


def check_weights_stored(proto, expected):
    """Every DequantizeLinear whose input is an initializer reads integers; count them."""
    inits = initializer_map(proto)
    stored = [n for n in proto.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits]
    for node in stored:
        t = inits[node.input[0]]
        assert t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8), t.data_type
    assert len(stored) == expected, (len(stored), expected)
    return stored


def w8a8(model, symmetric_activations=False):
    """``model`` converted (torch layers through their surrogate quantized modules) with
    8-bit per-channel weight and 8-bit activation quantizers, not yet calibrated."""
    ff.quantize_model(model, extra_conversion=ff.surrogate_quantized_modules(model))
    cfg = ff.QuantizationConfig()
    cfg.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8, granularity=ff.PerChannel(0))
    cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=symmetric_activations)
    cfg.initialize(model)
    return model


def calibrated_w8a8(model, x, symmetric_activations=False):
    w8a8(model, symmetric_activations)
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        for _ in range(3):
            model(torch.randn_like(x))
    return model


def demo_model():
    from examples.mlp import ResidualMLP

    torch.manual_seed(0)
    return ResidualMLP(16, 64).eval()


def quanto_style_demo():
    """The README's demo model through ff.quantize (autoquant), symmetric int8 everywhere,
    calibrated; and an input."""
    model = demo_model()
    with torch.no_grad():
        model.gate.normal_()
    ff.quantize(model, weights=8, activations=8)
    with torch.no_grad(), ff.calibration(model):
        for _ in range(4):
            model(torch.randn(32, 16))
    return model, torch.randn(32, 16)


def calibrated_block():
    """autoquant's transformer block through ff.quantize, calibrated; and an input."""
    from export_models import TransformerBlock

    torch.manual_seed(2)
    model = TransformerBlock().eval()
    ff.quantize(model, weights=8, activations=8)
    x = torch.randn(2, 8, 32)
    with torch.no_grad(), ff.calibration(model):
        for _ in range(4):
            model(torch.randn_like(x))
    return model, x


# --- tests ---------------------------------------------------------------------------------------


def test_demo_model_quanto_style():
    """The README's demo model through ff.quantize (autoquant): symmetric int8 everywhere."""
    needs_onnx()
    needs_ffq()
    model, x = quanto_style_demo()
    with tempfile.TemporaryDirectory() as tmp:
        proto = check_export(model, (x,), tmp, "demo")
        q = [n for n in proto.graph.node if n.op_type == "QuantizeLinear"]
        assert q, "no QuantizeLinear node"
        inits = initializer_map(proto)
        for n in q:  # symmetric quantizers: int8 with a zero zero-point
            zp = onnx.numpy_helper.to_array(inits[n.input[2]])
            assert zp.dtype == np.int8 and not zp.any()
        check_weights_stored(proto, 2)  # up.weight and down.weight
        # no float copy of a quantized weight is left
        shapes = {tuple(t.dims) for t in proto.graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
        assert (64, 16) not in shapes and (16, 64) not in shapes


def test_demo_model_asymmetric_activations():
    """Asymmetric activations export as uint8 with a zero point, weights per channel (axis 0)."""
    needs_onnx()
    torch.manual_seed(1)
    model = calibrated_w8a8(torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(),
                                                torch.nn.Linear(32, 8)), torch.randn(16, 16))
    x = torch.randn(16, 16)
    with tempfile.TemporaryDirectory() as tmp:
        proto = check_export(model, (x,), tmp, "mlp")
        inits = initializer_map(proto)
        dtypes = {inits[n.input[2]].data_type for n in proto.graph.node if n.op_type == "QuantizeLinear"}
        assert onnx.TensorProto.UINT8 in dtypes
        stored = check_weights_stored(proto, 2)
        for node in stored:
            axis = [a.i for a in node.attribute if a.name == "axis"]
            assert axis == [0], axis
            assert inits[node.input[1]].dims == [inits[node.input[0]].dims[0]]
        # per-tensor activation parameters are scalars
        q = [n for n in proto.graph.node if n.op_type == "QuantizeLinear"]
        assert all(list(inits[n.input[1]].dims) == [] for n in q)
        # the stored integers are fastforward's own
        w = model[0].weight
        qt = model[0].weight_quantizer(w)
        ints = onnx.numpy_helper.to_array(inits[stored[0].input[0]])
        assert np.array_equal(ints.astype(np.float32), qt.raw_data.detach().numpy())


def test_transformer_block():
    needs_onnx()
    needs_ffq()
    model, x = calibrated_block()
    with tempfile.TemporaryDirectory() as tmp:
        proto = check_export(model, (x,), tmp, "block")
        assert len([n for n in proto.graph.node if n.op_type == "QuantizeLinear"]) >= 8
        check_weights_stored(proto, 6)  # four Linear and two LayerNorm weights


class TorchEncoderLayer(torch.nn.Module):
    """torch's own attention layers, which take a fused kernel without autograd."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        self.attn = torch.nn.MultiheadAttention(16, 2, batch_first=True)
        self.head = torch.nn.Linear(16, 8)

    def forward(self, x):
        y = self.layer(x)
        return self.head(self.attn(y, y, y, need_weights=False)[0])


def test_torch_attention_modules():
    """nn.MultiheadAttention and nn.TransformerEncoderLayer take torch's fused inference
    kernel (aten::_native_multi_head_attention) when autograd is off, as during the trace;
    ONNX cannot express it, so the export switches that path off: quantized and disabled."""
    needs_onnx()
    needs_ffq()
    torch.manual_seed(4)
    model = TorchEncoderLayer().eval()
    ff.quantize(model, weights=8, activations=8)
    x = torch.randn(2, 6, 16)
    with torch.no_grad(), ff.calibration(model):
        for _ in range(3):
            model(torch.randn_like(x))
    mha = getattr(torch.backends, "mha", None)  # (torch 1.13 has no switch; its generated
    # classes never take the fused path either: the built-in table's pattern rules)
    assert mha is None or mha.get_fastpath_enabled()
    with tempfile.TemporaryDirectory() as tmp:
        check_export(model, (x,), tmp, "attn", fused_steps=2)  # two attention layers: flips compound
        with ff.disable_quantization(model):
            export(model, (x,), tmp, "off", format="onnx_qdq")
            with torch.no_grad():
                ref = model(x).numpy()
        path = os.path.join(tmp, "off.onnx")
        assert not nodes(path, "QuantizeLinear") and not nodes(path, "DequantizeLinear")
        if ort_available():
            assert np.allclose(run_ort(path, (x,), False), ref, atol=1e-5)
    assert mha is None or mha.get_fastpath_enabled()  # the switch is back


def test_fused_softmax_of_a_one_sided_grid_is_a_warning():
    """ONNX Runtime's fused QLinearSoftmax is wrong for a one-sided output grid narrower than
    [0, 1] (its reference execution is right): the export warns, and stays silent for a
    symmetric two-sided grid."""
    needs_onnx()
    for symmetric, warned in ((False, True), (True, False)):
        torch.manual_seed(6)
        x = torch.randn(4, 16) * 0.3
        model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.Softmax(dim=-1))
        ff.quantize_model(model)
        cfg = ff.QuantizationConfig()
        cfg.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8, granularity=ff.PerChannel(0))
        # asymmetric, or symmetric two-sided (offset-free, int8 around 0)
        cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=symmetric,
                     allow_one_sided=not symmetric)
        cfg.initialize(model)
        with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
            model(x)
        seen = export_warnings(model, x)
        hits = [m for m in seen if "QLinearSoftmax" in m]
        assert bool(hits) == warned, (symmetric, seen)


def export_warnings(model, x, fused_off=None):
    """The warnings of exporting ``model`` (onnx_qdq); where ONNX Runtime is installed, its
    reference execution of the file is checked to be within one output step of the model,
    and ``fused_off`` (a list) gets whether its default execution is further off than that."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        export(model, (x,), tmp, "model", format="onnx_qdq")
        if ort_available():  # the reference execution is right either way
            with torch.no_grad():
                ref = value(model(x)).numpy()
            step = output_step(model, x) * 1.0001
            path = os.path.join(tmp, "model.onnx")
            assert np.abs(run_ort(path, (x,), False) - ref).max() <= step
            if fused_off is not None:
                fused_off.append(bool(np.abs(run_ort(path, (x,), True) - ref).max() > step))
    return [str(w.message) for w in seen]


def test_fused_average_pool_past_the_input_is_a_warning():
    """ONNX Runtime's fused QLinearAveragePool divides a ceil-mode window reaching past the
    input by the whole kernel area (its reference execution, like torch, by the part inside):
    the export warns for such a pooling, and stays silent when every window fits."""
    needs_onnx()
    if int(torch.__version__.split(".")[0]) < 2:
        # torch 1.13's exporter writes a ceil-mode pool as Pad -> AveragePool, a form the
        # export does not recognise (docs/export.md: a known gap)
        skip("torch %s writes ceil-mode pools as Pad -> AveragePool" % torch.__version__)
    # a 4x4 map: kernel 3 leaves a window hanging over (a 2x2 output); ONNX Runtime also fuses a pool whose
    # QuantizeLinear comes after a Flatten (it moves the QuantizeLinear up)
    for kernel, flat, warned in ((3, False, True), (3, True, True), (2, False, False)):
        torch.manual_seed(7)
        x = torch.randn(2, 3, 4, 4)
        tail = [torch.nn.Flatten(), torch.nn.Linear(16, 2)] if flat else [torch.nn.Conv2d(4, 2, 1)]
        model = calibrated_w8a8(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.AvgPool2d(kernel, ceil_mode=True),
                                                    *tail).eval(), x)
        fused_off = []
        seen = export_warnings(model, x, fused_off)
        hits = [m for m in seen if "QLinearAveragePool" in m]
        assert bool(hits) == warned, (kernel, flat, seen)
        if fused_off and not warned:  # silent only where ONNX Runtime's default execution is right
            assert not fused_off[0], (kernel, flat)


def test_resnet18_cnn():
    needs_onnx()
    from export_models import ResNet18Like

    torch.manual_seed(3)
    model = calibrated_w8a8(ResNet18Like().eval(), torch.randn(2, 3, 32, 32))
    x = torch.randn(2, 3, 32, 32)
    with tempfile.TemporaryDirectory() as tmp:
        # Layer by layer (check_export), each of the 42 quantized tensors ONNX Runtime
        # computes from fastforward's integers is within one step, in both executions.
        # Free-running, a single one-step flip in an early layer of this 20-layer CNN spreads
        # to tens of elements two layers on and to several steps of the output
        # (docs/export.md, "How close ONNX Runtime comes"). The reference execution rounds as
        # fastforward does at every QuantizeLinear (exact rounding of x / s - r on both
        # sides), so only float summation order can flip an element: measured here within
        # one step (0 over most seeds of this model, up to 3 on 1 in 12). The optimised one
        # also rounds each float bias to an int32 at s_in * s_w inside QLinearConv (8 stem
        # outputs here) and accumulates in integers: measured 2 steps.
        proto = check_export(model, (x,), tmp, "resnet", fused_steps=3, ref_steps=1)
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        check_weights_stored(proto, len(convs) + 1)
        if ort_available():
            path = os.path.join(tmp, "resnet.onnx")
            nodes_, elements, flips = check_quantize_linear_nodes(model, (x,), path)
            assert nodes_ == 42 and flips < elements / 10000, (nodes_, elements, flips)
            for optimize in (False, True):
                off = check_layer_by_layer(model, (x,), path, optimize)
                assert sum(off) < elements / 100, (optimize, off)
            # the layer-by-layer check notices a weight scale 10% off (the stem's)
            changed = onnx.load(path)
            dq = next(n for n in changed.graph.node if n.op_type == "DequantizeLinear"
                      and n.input[0] in initializer_map(changed))
            ws = next(t for t in changed.graph.initializer if t.name == dq.input[1])
            wider = onnx.numpy_helper.to_array(ws) * np.float32(1.1)
            ws.CopyFrom(onnx.numpy_helper.from_array(wider, ws.name))
            onnx.save(changed, path)
            for optimize in (False, True):
                try:
                    check_layer_by_layer(model, (x,), path, optimize)
                except AssertionError as exc:
                    assert "node 1 (/stem/" in str(exc), exc
                else:
                    raise AssertionError("a weight scale 10% off went unnoticed")
            # the node-by-node check notices a zero point one off
            q = [n for n in proto.graph.node if n.op_type == "QuantizeLinear"][5]
            zp = next(t for t in proto.graph.initializer if t.name == q.input[2])
            value = onnx.numpy_helper.to_array(zp)
            zp.CopyFrom(onnx.numpy_helper.from_array((value + 1).astype(value.dtype), zp.name))
            onnx.save(proto, path)
            try:
                check_quantize_linear_nodes(model, (x,), path)
            except AssertionError as exc:
                assert "node 5" in str(exc) and "rounding formulas agree" in str(exc), exc
            else:
                raise AssertionError("a zero point one off went unnoticed")


class _Masked(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.fc(features) * mask


class _Scaled(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, features: torch.Tensor, scale: float, mask: Any = None, use_mask: bool = True) -> torch.Tensor:
        y = self.fc(features) * scale
        return y * mask if use_mask and mask is not None else y


def test_input_names_stop_at_a_number():
    """torch's exporter makes a number argument a graph input (unnamed) and names inputs in
    order: the forward parameters' names go to the leading tensors only, so the tensor after
    a number keeps torch's name instead of taking a wrong one; a bool keyword (transformers'
    use_cache=False) leaves the names of the tensors before it."""
    needs_onnx()
    torch.manual_seed(0)
    x, mask = torch.randn(3, 8), torch.rand(3, 4)
    model = w8a8(_Scaled().eval())
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x, 2.0, mask)
    for args, kwargs in (((x, 2.0, mask), None), ((x, 2.0), {"mask": mask, "use_mask": False})):
        with tempfile.TemporaryDirectory() as tmp:
            art = export(model, args, tmp, "m", format="onnx_qdq", model_kwargs=kwargs)
            inputs = onnx.load(art.path).graph.input
            assert inputs[0].name == "features", [i.name for i in inputs]
            shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in inputs}
            assert all(shapes[name] == list(t.shape) for name, t in (("features", x), ("mask", mask))
                       if name in shapes), shapes


def test_input_names_are_the_forward_parameters():
    """Without input_names, the graph's inputs take the names of the forward parameters the
    example inputs are passed to (torch's tracer named them after values inside the model:
    'data.1', the input quantizer's argument, and 'onnx::Mul_1'), in both formats; names
    given by the caller win; ONNX Runtime takes the inputs by those names."""
    needs_onnx()
    torch.manual_seed(0)
    x, mask = torch.randn(3, 8), (torch.rand(3, 4) > 0.5).float()
    model = w8a8(_Masked().eval())
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x, mask)
    from fastforward import _integer

    with torch.no_grad(), _integer.integer_execution(False):
        ref = value(model(x, mask)).numpy()
        step = float(model.fc(x).quant_args().scale)  # the output: the layer's, times a 0 / 1 mask
    for fmt in ("onnx_qdq", "onnx"):
        for given, want in ((None, ["features", "mask"]), (["a", "b"], ["a", "b"])):
            with tempfile.TemporaryDirectory() as tmp:
                art = export(model, (x, mask), tmp, "m", format=fmt, input_names=given)
                names = [i.name for i in onnx.load(art.path).graph.input]
                assert names == want, (fmt, given, names)
                if fmt == "onnx_qdq" and ort_available():
                    session = ort.InferenceSession(art.path, providers=["CPUExecutionProvider"])
                    got = session.run(None, dict(zip(want, (x.numpy(), mask.numpy()))))[0]
                    assert np.abs(got - ref).max() <= step * 1.0001, (np.abs(got - ref).max(), step)


class _ManyOutputs(torch.nn.Module):
    """One tensor, a tuple, or a dictionary holding a tuple, by ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.a, self.b = torch.nn.Linear(8, 4), torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> Any:
        if self.kind == "tensor":
            return self.a(x)
        if self.kind == "tuple":
            return self.a(x), self.b(x)
        if self.kind == "repeated":  # one tensor twice, and the input itself
            y = self.a(x)
            return y, self.b(x), y, x
        return {"logits": self.a(x), "aux": (self.b(x), torch.relu(self.a(x)))}


def test_output_names_follow_the_output_structure():
    """Without output_names, the graph's outputs are named after the model's output (torch's
    tracer numbered them: '20'): 'output' for one tensor, 'output_0', 'output_1' for a
    tuple's items, a dictionary's keys, nested parts joined with '_', also for a tensor
    returned twice and for the input returned as it is (one graph value: copies by Identity
    nodes); names given by the caller win. ONNX Runtime returns the values under those names, and the encodings format
    keeps an output quantizer's encoding under the output's name."""
    needs_onnx()
    torch.manual_seed(1)
    x = torch.randn(5, 8)
    wanted = {"tensor": ["output"], "tuple": ["output_0", "output_1"], "dict": ["logits", "aux_0", "aux_1"],
              "repeated": ["output_0", "output_1", "output_2", "output_3"]}
    from fastforward import _integer

    for kind, want in wanted.items():
        model = calibrated_w8a8(_ManyOutputs(kind).eval(), x)
        with torch.no_grad(), _integer.integer_execution(False):
            out = model(x)
        refs = [value(t).numpy() for t in (
            [out] if kind == "tensor" else [out["logits"], *out["aux"]] if kind == "dict" else list(out))]
        for fmt in ("onnx_qdq", "onnx"):
            for given in (None, ["r%d" % i for i in range(len(want))]):
                with tempfile.TemporaryDirectory() as tmp:
                    art = export(model, (x,), tmp, "m", format=fmt, output_names=given)
                    proto = onnx.load(art.path)
                    names = [o.name for o in proto.graph.output]
                    assert names == (given or want), (kind, fmt, names)
                    if fmt == "onnx":
                        with open(art.encodings_path) as f:
                            assert names[0] in json.load(f)["activation_encodings"], (kind, names)
                    elif ort_available():
                        session = ort.InferenceSession(art.path, providers=["CPUExecutionProvider"])
                        assert [o.name for o in session.get_outputs()] == names
                        for ref, got in zip(refs, session.run(None, {"x": x.numpy()})):
                            assert np.abs(got - ref).max() <= np.abs(ref).max() / 100, (kind, np.abs(got - ref).max())


def test_frozen_and_4bit_weights():
    """Frozen (integer) weights and 4-bit weights are stored as int8 initializers, exactly."""
    needs_onnx()
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Linear(12, 24), torch.nn.GELU(), torch.nn.Linear(24, 6))
    ff.quantize_model(model)
    cfg = ff.QuantizationConfig()
    cfg.add_rule("0/weight_quantizer", LinearQuantizer, num_bits=4, granularity=ff.PerChannel(0))
    cfg.add_rule("2/weight_quantizer", LinearQuantizer, num_bits=8, symmetric=False)
    cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=False)
    cfg.initialize(model)
    x = torch.randn(10, 12)
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x)
    with tempfile.TemporaryDirectory() as tmp:
        proto = check_export(model, (x,), tmp, "w4")
        inits = initializer_map(proto)
        stored = check_weights_stored(proto, 2)
        ints = [onnx.numpy_helper.to_array(inits[n.input[0]]) for n in stored]
        four = [a for a in ints if a.shape == (24, 12)][0]
        assert four.min() >= -8 and four.max() <= 7
        ff.freeze(model)
        assert model[0].weight is None
        proto = check_export(model, (x,), tmp, "frozen")
        check_weights_stored(proto, 2)


class HeldWeightLinear(torch.nn.Module):
    """A Linear whose weight was quantized ahead of time and is held as a QuantizedTensor
    attribute (neither a parameter nor a quantizer), as bench/e2e.py's models hold theirs."""

    def __init__(self, linear, output=False, bits=8):
        super().__init__()
        from fastforward.quantization.affine import quantize_per_channel

        self.input_quantizer = LinearQuantizer(8, symmetric=False)
        self.output_quantizer = LinearQuantizer(8, symmetric=False) if output else None
        self.bias = linear.bias
        w = linear.weight.detach()
        scale = w.abs().amax(1).clamp_min(1e-8) / (2 ** (bits - 1) - 1)
        qt = quantize_per_channel(w, scale, None, axis=0, num_bits=bits)
        raw = qt.raw_data.to(torch.int8 if bits <= 8 else torch.int16)
        self.weight_q = QuantizedTensor(raw, qt.quantization_context)

    def forward(self, x):
        y = ff.nn.functional.linear(self.input_quantizer(x), self.weight_q, self.bias)
        return y if self.output_quantizer is None else self.output_quantizer(y)


def test_weights_held_as_quantized_tensors():
    """Integers the model holds (a QuantizedTensor attribute) are stored as int8 and feed
    DequantizeLinear; before, the trace kept the buffer libffqrt dequantized them into,
    unwritten as far as the tracer knew, and ONNX Runtime computed with garbage."""
    needs_onnx()
    torch.manual_seed(8)
    model = torch.nn.Sequential(HeldWeightLinear(torch.nn.Linear(16, 48)), torch.nn.ReLU(),
                                HeldWeightLinear(torch.nn.Linear(48, 8), output=True))
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        for _ in range(3):
            model(torch.randn(32, 16))
    x = torch.randn(32, 16)
    with tempfile.TemporaryDirectory() as tmp:
        proto = check_export(model, (x,), tmp, "held")
        stored = check_weights_stored(proto, 2)
        inits = initializer_map(proto)
        ints = onnx.numpy_helper.to_array(inits[stored[0].input[0]])
        assert np.array_equal(ints, model[0].weight_q.raw_data.numpy())
        assert not [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.FLOAT
                    and tuple(t.dims) in ((48, 16), (8, 48))]
        # 12-bit integers have no 8-bit ONNX storage: an error naming the module holding them
        model[2] = HeldWeightLinear(torch.nn.Linear(48, 8), output=True, bits=12)
        with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
            model(x)
        expect_export_error(model, x, tmp, ["module at '2'", "HeldWeightLinear", "12-bit"])


def test_tracing_sees_the_quantization():
    """While torch's tracer runs (as export does), quantization is computed with torch ops it
    records, not by libffqrt writing into a buffer it cannot see: the traced function
    quantizes a new input, not a copy of the first one's result."""
    from fastforward.quantization.affine import _kernels as K

    scale, offset = torch.tensor([0.05]), torch.tensor([3.0])

    def fake_quantize(x):
        return K.fake_quantize_raw(x, scale, offset, tuple(x.shape), 8)

    x1, x2 = torch.randn(4, 8), torch.randn(4, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(fake_quantize, (x1,), check_trace=False)
    assert torch.equal(traced(x1), fake_quantize(x1))
    assert torch.equal(traced(x2), fake_quantize(x2))


def test_int4_at_opset_21():
    """From opset 21, 4-bit weights are INT4 initializers and 4-bit activations INT4/UINT4
    QDQ pairs; below it 4-bit activations are an error, and torch 1.13 cannot go there."""
    needs_onnx()
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    ff.quantize_model(model)
    cfg = ff.QuantizationConfig()
    cfg.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=4, granularity=ff.PerChannel(0))
    cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=False)
    cfg.add_rule("1/output_quantizer", LinearQuantizer, num_bits=4, symmetric=False)
    cfg.initialize(model)
    x = torch.randn(32, 16)
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x)
    with tempfile.TemporaryDirectory() as tmp:
        expect_export_error(model, x, tmp, ["'1.output_quantizer'", "4-bit", "opset 21"])
        if int(torch.__version__.split(".")[0]) < 2:
            try:
                export(model, (x,), tmp, "m", format="onnx_qdq", opset_version=21)
            except ValueError as exc:
                assert "opset_version 21" in str(exc)
            else:
                raise AssertionError("opset 21 accepted on torch 1.13")
            skip("torch %s's exporter stops at opset 17: no 4-bit types" % torch.__version__)
        art = export(model, (x,), tmp, "int4", format="onnx_qdq", opset_version=21)
        proto = onnx.load(art.path)
        onnx.checker.check_model(proto, full_check=True)
        assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [21]
        assert all(o.domain != "ffq" for o in proto.opset_import)
        inits = initializer_map(proto)
        for node in [n for n in proto.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits]:
            assert inits[node.input[0]].data_type == onnx.TensorProto.INT4
            assert inits[node.input[2]].data_type == onnx.TensorProto.INT4
        zero_points = {inits[n.input[2]].data_type for n in proto.graph.node if n.op_type == "QuantizeLinear"}
        assert onnx.TensorProto.UINT4 in zero_points and onnx.TensorProto.UINT8 in zero_points
        # End to end, ORT's reference execution only: its optimised graph rounds the float
        # bias to int32 at s_in * s_w, and a one-step flip that the 4-bit activation keeps
        # is several steps of the output (measured 0 to 4 over seeds; docs/export.md).
        # Layer by layer, both executions are within one step.
        check_reference_and_layers(model, x, art.path)


def test_int4_conv_weights_at_opset_21():
    """4-bit convolution weights (Conv1d, Conv2d): torch's export of a convolution reads its
    kernel's shape, which a marker node hid (an error inside torch's exporter); the stored
    integers are found by value instead and become INT4 initializers."""
    needs_onnx()
    if int(torch.__version__.split(".")[0]) < 2:
        skip("torch %s's exporter stops at opset 17: no 4-bit types" % torch.__version__)
    for conv, shape in ((torch.nn.Conv1d(3, 6, 3, padding=1), (2, 3, 10)),
                        (torch.nn.Conv2d(3, 6, 3, padding=1), (2, 3, 8, 8))):
        torch.manual_seed(8)
        model = torch.nn.Sequential(conv, torch.nn.ReLU())
        ff.quantize_model(model)
        cfg = ff.QuantizationConfig()
        cfg.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=4, granularity=ff.PerChannel(0))
        cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=False)
        cfg.initialize(model)
        x = torch.randn(*shape)
        with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
            model(x)
        with tempfile.TemporaryDirectory() as tmp:
            art = export(model, (x,), tmp, "conv4", format="onnx_qdq", opset_version=21)
            proto = onnx.load(art.path)
            onnx.checker.check_model(proto, full_check=True)
            inits = initializer_map(proto)
            weight_dq = [n for n in proto.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits]
            assert len(weight_dq) == 1, [n.op_type for n in proto.graph.node]
            assert inits[weight_dq[0].input[0]].data_type == onnx.TensorProto.INT4
            assert list(inits[weight_dq[0].input[0]].dims) == list(conv.weight.shape)
            assert not [n for n in proto.graph.node if n.op_type == "Reshape"]
            check_reference_and_layers(model, x, art.path)


def test_disabled_quantizers_export_float_graphs():
    needs_onnx()
    torch.manual_seed(5)
    model = calibrated_w8a8(torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                                torch.nn.Linear(16, 4)), torch.randn(4, 8))
    x = torch.randn(4, 8)
    float_model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    float_model.load_state_dict({k: v for k, v in model.state_dict().items() if "quantizer" not in k
                                 and not k.endswith("_extra_state")}, strict=False)
    with tempfile.TemporaryDirectory() as tmp:
        with ff.disable_quantization(model):
            export(model, (x,), tmp, "off", format="onnx_qdq")
        path = os.path.join(tmp, "off.onnx")
        onnx.checker.check_model(onnx.load(path), full_check=True)
        assert not nodes(path, "QuantizeLinear") and not nodes(path, "DequantizeLinear")
        with torch.no_grad():
            ref = float_model(x).numpy()
        if ort_available():
            assert np.allclose(run_ort(path, (x,), False), ref, atol=1e-5)
        # a converted model whose quantizers are still stubs
        stubbed = torch.nn.Sequential(torch.nn.Linear(8, 4))
        ff.quantize_model(stubbed)
        export(stubbed, (x,), tmp, "stubs", format="onnx_qdq")
        assert not nodes(os.path.join(tmp, "stubs.onnx"), "QuantizeLinear")
        # export on, quantizers back: QDQ again
        export(model, (x,), tmp, "on", format="onnx_qdq")
        assert nodes(os.path.join(tmp, "on.onnx"), "QuantizeLinear")


class TwoPaths(torch.nn.Module):
    """A branch the calibration never takes, and one only torch's tracer takes (as torch's
    attention computes `head_dim` from a size that is a tensor under tracing)."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)
        self.rare = LinearQuantizer(8, symmetric=False)
        self.traced = LinearQuantizer(8, symmetric=False)

    def forward(self, x, rare=False):
        y = self.fc(x)
        if rare:
            y = self.rare(y)
        if torch.jit.is_tracing():
            y = self.traced(y)
        return y


def test_uncalibrated_quantizers_export_as_the_model_runs():
    # Quantizers that never ran on the calibration data hold uninitialised parameters, which
    # torch's tracer cannot read (it failed deep inside torch before). Exported, they pass
    # their input on, as the running model does; one the trace reaches gives a warning.
    import warnings

    needs_onnx()
    torch.manual_seed(6)
    model = calibrated_w8a8(TwoPaths(), torch.randn(4, 8))
    assert model.rare.has_uninitialized_params and model.traced.has_uninitialized_params
    x = torch.randn(4, 8)
    with torch.no_grad():
        ref = value(model(x)).numpy()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export(model, (x,), tmp, "paths", format="onnx_qdq")
        path = os.path.join(tmp, "paths.onnx")
        onnx.checker.check_model(onnx.load(path), full_check=True)
        said = [str(w.message) for w in caught if "never calibrated" in str(w.message)]
        assert len(said) == 1 and "LinearQuantizer at 'traced'" in said[0], said
        assert isinstance(model.rare, LinearQuantizer) and isinstance(model.traced, LinearQuantizer)
        # fc's input and output (its weight is stored as integers): nothing for the other two
        assert len(nodes(path, "QuantizeLinear")) == 2 and len(nodes(path, "DequantizeLinear")) == 3
        if ort_available():
            assert np.array_equal(run_ort(path, (x,), False), ref)


class Pow2(QuantizationFunction):
    @staticmethod
    def quantize(data, num_bits, scale):
        return torch.clamp(torch.round(data / scale), -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1)

    @staticmethod
    def dequantize(raw, num_bits, scale):
        return raw * scale


class Pow2Quantizer(Quantizer):
    def quantize(self, data):
        return Pow2.apply(data, num_bits=4, scale=0.25)


def expect_export_error(model, x, tmp, fragments, format="onnx_qdq"):
    before = set(os.listdir(tmp))
    try:
        export(model, (x,), tmp, "bad", format=format)
    except ExportError as exc:
        message = str(exc)
    else:
        raise AssertionError("ExportError not raised")
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert set(os.listdir(tmp)) == before, "a failed export left files behind"
    return message


def test_unexpressible_quantizers_are_errors_naming_the_path():
    needs_onnx()
    x = torch.randn(4, 8)

    def fresh():
        torch.manual_seed(6)
        m = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(8, 4)))
        return calibrated_w8a8(m, x)

    with tempfile.TemporaryDirectory() as tmp:
        # an existing file stays as it was when an export fails
        with open(os.path.join(tmp, "bad.onnx"), "wb") as f:
            f.write(b"previous")
        m = fresh()
        m[1][1].output_quantizer = Pow2Quantizer()
        expect_export_error(m, x, tmp, ["'1.1.output_quantizer'", "Pow2Quantizer"])
        with open(os.path.join(tmp, "bad.onnx"), "rb") as f:
            assert f.read() == b"previous"

        m = fresh()
        q = LinearQuantizer(8, granularity=ff.PerTile((4, 8)))
        q.quantization_range = (-torch.ones(2), torch.ones(2))
        m[1][1].weight_quantizer = q
        expect_export_error(m, x, tmp, ["'1.1.weight_quantizer'", "PerTile"])

        m = fresh()
        q = LinearQuantizer(8, granularity=ff.PerBlock(1, 4, per_channel_dims=0))
        q.quantization_range = (-torch.ones(16), torch.ones(16))
        m[0].weight_quantizer = q
        expect_export_error(m, x, tmp, ["'0.weight_quantizer'", "PerBlock"])

        m = fresh()
        q = LinearQuantizer(4, symmetric=False)
        q.quantization_range = (-1.0, 1.0)
        m[1][0].output_quantizer = q
        expect_export_error(m, x, tmp, ["'1.0.output_quantizer'", "4-bit"])

        m = fresh()
        m[0].input_quantizer = DynamicLinearQuantizer(8)
        expect_export_error(m, x, tmp, ["'0.input_quantizer'", "dynamic"])

        m = fresh()
        q = LinearQuantizer(8, symmetric=False, allow_one_sided=False)
        q.quantization_range = (2.0, 3.0)  # real 0 is not on the grid
        m[0].output_quantizer = q
        expect_export_error(m, x, tmp, ["'0.output_quantizer'", "does not contain 0"])

        # the failed exports left every quantizer as it was: a normal export still works
        m = fresh()
        check_export(m, (x,), tmp, "good")
        assert not any(list(q.overrides) for q in m.modules() if isinstance(q, Quantizer))


def test_bad_requests():
    needs_onnx()
    model = torch.nn.Linear(2, 2)
    x = torch.randn(1, 2)
    with tempfile.TemporaryDirectory() as tmp:
        for target, fmt in (("qnn", "tflite"), ("gguf", "llama_cpp"), ("tflite", "onnx_qdq")):
            try:
                export(model, (x,), tmp, "m", target=target, format=fmt)
            except ValueError as exc:
                assert "onnx_qdq" in str(exc)
            else:
                raise AssertionError("no error for %s/%s" % (target, fmt))
        for name in ("", "a/b", ".."):
            try:
                export(model, (x,), tmp, name)
            except ValueError as exc:
                assert "model_name" in str(exc)
            else:
                raise AssertionError("no error for model_name %r" % name)
        assert os.listdir(tmp) == []
        export(model, x, tmp, "m", target="QNN", format="ONNX_QDQ")  # a bare tensor; case-insensitive
        assert os.listdir(tmp) == ["m.onnx"]


def test_export_mode_outside_export_keeps_values():
    """Switching export mode on by hand still gives x' directly, also where ONNX has no form."""
    x = torch.randn(6, 8)
    q = LinearQuantizer(4, granularity=ff.PerTile((3, 8)))
    q.quantization_range = (-torch.ones(2), torch.ones(2))
    expected = q(x).dequantize()
    with ff.export_mode(True):
        out = q(x)
    assert type(out) is torch.Tensor and torch.equal(out, expected)


# --- ("qnn", "onnx"): a float graph and its QNN encodings ------------------------------------------


def load_encodings(art):

    assert art.encodings_path == os.path.splitext(art.path)[0] + ".encodings"
    with open(art.encodings_path) as f:
        return json.load(f)


def graph_tensor_names(proto):
    graph = proto.graph
    return ({t.name for t in graph.initializer} | {v.name for v in graph.input}
            | {o for n in graph.node for o in n.output})


def qdq_from_encodings(proto, encodings):
    """What a QNN converter does with the pair, in plain ONNX: every tensor named in the
    (0.6.1) encodings gets a QuantizeLinear -> DequantizeLinear with the encoding's grid
    (``x = (q + offset) * scale``, q unsigned: uint8 with zero point -offset), and its
    readers read the DequantizeLinear. Written from the layout docs/export.md describes,
    independently of the exporter. 8-bit encodings only (ONNX Runtime's uint8)."""
    graph = proto.graph
    outputs = {v.name: v for v in graph.output}
    added = []
    tables = list(encodings["activation_encodings"].items()) + list(encodings["param_encodings"].items())
    for k, (name, entries) in enumerate(tables):
        assert all(e["bitwidth"] == 8 for e in entries), name
        scale = np.array([e["scale"] for e in entries], dtype=np.float32)
        zp = np.array([-e["offset"] for e in entries], dtype=np.int64)
        assert zp.min() >= 0 and zp.max() <= 255, (name, zp)
        if len(entries) == 1:
            scale, zp = scale.reshape(()), zp.reshape(())
        s_name, z_name, q_name, d_name = ["qnn%d_%s" % (k, part) for part in ("scale", "zp", "q", "dq")]
        graph.initializer.extend([onnx.numpy_helper.from_array(scale, s_name),
                                  onnx.numpy_helper.from_array(zp.astype(np.uint8), z_name)])
        axis = {} if len(entries) == 1 else {"axis": 0}
        for node in graph.node:
            for i, inp in enumerate(node.input):
                if inp == name:
                    node.input[i] = d_name
        if name in outputs:
            outputs[name].name = d_name
        added += [onnx.helper.make_node("QuantizeLinear", [name, s_name, z_name], [q_name], **axis),
                  onnx.helper.make_node("DequantizeLinear", [q_name, s_name, z_name], [d_name], **axis)]
    nodes = added + list(graph.node)  # put each pair after its producer: sort topologically
    ready = {t.name for t in graph.initializer} | {v.name for v in graph.input} | {""}
    ordered = []
    while nodes:
        rest = []
        for node in nodes:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        assert len(rest) < len(nodes), "a cycle after inserting QDQ pairs"
        nodes = rest
    del graph.node[:]
    graph.node.extend(ordered)
    return proto


def check_qnn_export(model, inputs, tmp, name, steps=1, fused_steps=None, check_fused=True, **kwargs):
    """Export with the default format; check both files and, in ONNX Runtime, the graph with
    the encodings applied (qdq_from_encodings) against the simulated model, within ``steps``
    of the output quantizer in the reference execution and ``fused_steps`` (default
    ``steps``) in the optimised one; and, in the reference execution, equal on every element
    to the same model exported as QDQ (onnx_qdq). Returns (art, proto, encodings)."""
    from fastforward import _integer

    art = export(model, inputs, tmp, name, **kwargs)
    assert art.pipeline_name == "qnn/onnx" and art.path == os.path.join(tmp, name + ".onnx")
    files = os.listdir(tmp)
    assert name + ".onnx" in files and name + ".encodings" in files and not [f for f in files if f.endswith(".tmp")]
    proto = onnx.load(art.path)
    onnx.checker.check_model(proto, full_check=True)
    assert not [n for n in proto.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear") or n.domain]
    assert all(o.domain in ("", "ai.onnx") for o in proto.opset_import)
    enc = load_encodings(art)
    assert art.stage_outputs["encodings"] == enc
    names = graph_tensor_names(proto)
    initializers = {t.name for t in proto.graph.initializer}
    for key in ("activation_encodings", "param_encodings"):
        for tensor in enc[key]:
            assert tensor in names, (key, tensor)
    assert set(enc["param_encodings"]) <= initializers
    if ort_available():
        with torch.no_grad(), _integer.integer_execution(False):
            ref = value(model(*inputs)).numpy()
        step = output_step(model, inputs[0])
        applied = qdq_from_encodings(onnx.load(art.path), enc).SerializeToString()
        qdq = export(model, inputs, tmp, name + "_qdq", format="onnx_qdq",
                     **{k: v for k, v in kwargs.items() if k in ("input_names", "output_names")})
        assert np.array_equal(run_ort(applied, inputs, False), run_ort(qdq.path, inputs, False))
        for optimize in (False, True) if check_fused else (False,):
            options = ort.SessionOptions()
            options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                                else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
            options.intra_op_num_threads = 1
            session = ort.InferenceSession(applied, options, providers=["CPUExecutionProvider"])
            got = session.run(None, {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)})[0]
            err = float(np.abs(got - ref).max())
            bound = fused_steps if optimize and fused_steps is not None else steps
            assert err <= bound * step * 1.0001, "optimize=%s: %g is more than %d step(s) of %g" % (
                optimize, err, bound, step)
    return art, proto, enc


def qnn_offsets(quantizer):
    """The quantizer's QNN offsets, from its own definition x = (raw + round(o)) * s with raw
    in [-2^(b-1), 2^(b-1) - 1]: with q = raw + 2^(b-1) in [0, 2^b - 1], x = (q + round(o) -
    2^(b-1)) * s."""
    from fastforward.quantization.affine import _kernels as K

    b = quantizer.num_bits
    o = torch.zeros_like(quantizer.scale) if quantizer.offset is None else quantizer.offset.detach()
    return [int(r) - 2 ** (b - 1) for r in K.round_half_even(o.double()).reshape(-1).tolist()]


def quantizer_pair(q):
    return (tuple(float(np.float32(s)) for s in q.scale.detach().reshape(-1).tolist()), tuple(qnn_offsets(q)))


def encoding_pairs(enc):
    """{(scales, offsets)} of the activation encodings (0.6.1 layout)."""
    return {(tuple(e["scale"] for e in v), tuple(e["offset"] for e in v)) for v in enc["activation_encodings"].values()}


def check_entries(entries, quantizer):
    """The encoding entries of a tensor are the quantizer's scale(s) and offset(s)."""
    scales = quantizer.scale.detach().reshape(-1).tolist()
    offsets = qnn_offsets(quantizer)
    assert len(entries) == len(scales), (len(entries), len(scales))
    levels = 2 ** quantizer.num_bits - 1
    for e, s, o in zip(entries, scales, offsets):
        assert e["bitwidth"] == quantizer.num_bits and e["dtype"] == "int"
        assert np.float32(e["scale"]) == np.float32(s) and e["offset"] == o, (e, s, o)
        assert e["min"] == o * e["scale"] and e["max"] == (o + levels) * e["scale"]
    sym = all(e["offset"] == -(2 ** (quantizer.num_bits - 1)) for e in entries)
    assert {e["is_symmetric"] for e in entries} == {"True" if sym else "False"}


def test_qnn_onnx_is_the_default_demo_model():
    """The README's demo model through ff.quantize: export() without a format writes the
    float graph and its encodings; their names match, their values are the quantizers', and
    the pair run as QNN would run it (QDQ at every encoded tensor) is within one step."""
    needs_onnx()
    needs_ffq()
    model, x = quanto_style_demo()
    with tempfile.TemporaryDirectory() as tmp:
        art, proto, enc = check_qnn_export(model, (x,), tmp, "demo")
        assert enc["version"] == "0.6.1"
        quantizers = dict(model.named_modules())
        # parameters: named after the model's parameters, the quantizer's scales and offsets,
        # and the initializer holds fastforward's quantized-dequantized weight
        assert sorted(enc["param_encodings"]) == ["down.weight", "up.weight"]
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
        for name, entries in enc["param_encodings"].items():
            layer = quantizers[name.split(".")[0]]
            check_entries(entries, layer.weight_quantizer)
            with torch.no_grad():
                assert np.array_equal(inits[name], layer.weight_quantizer(layer.weight).dequantize().numpy())
        # activations: every encoding is one of the quantizers that ran, and every quantizer
        # that ran has its encoding (tensors of equal encodings may be merged)
        written = encoding_pairs(enc)
        assert written == {quantizer_pair(q) for q in activation_quantizer_calls(model, (x,))}
        assert len(enc["activation_encodings"]) >= 3
        for entries in enc["activation_encodings"].values():
            q = [q for q in activation_quantizer_calls(model, (x,)) if quantizer_pair(q) == encoding_pairs(
                {"activation_encodings": {"t": entries}}).pop()][0]
            check_entries(entries, q)
        # the graph input carries the model's input quantizer
        assert proto.graph.input[0].name in enc["activation_encodings"]
        if hasattr(onnx.NodeProto(), "metadata_props"):
            tagged = [m for n in proto.graph.node for m in n.metadata_props if m.key == "ff.quantizers"]
            assert tagged and any("up.weight_quantizer" in m.value for m in tagged)


def calibrated_asymmetric(seed, weight_symmetric=False):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    ff.quantize_model(model)
    cfg = ff.QuantizationConfig()
    cfg.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8, symmetric=weight_symmetric,
                 granularity=ff.PerChannel(0))
    cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=False)
    cfg.initialize(model)
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        for _ in range(3):
            model(torch.randn(16, 16))
    return model


def test_qnn_encodings_per_channel_and_offsets():
    """Per-channel weights list one entry per channel; offsets follow QNN's
    x = (q + offset) * scale, which reproduces fastforward's values exactly; the 1.0.0
    layout carries the same numbers."""
    needs_onnx()
    model = calibrated_asymmetric(11)
    x = torch.randn(16, 16)
    with tempfile.TemporaryDirectory() as tmp:
        art, proto, enc = check_qnn_export(model, (x,), tmp, "mlp")
        for k in (0, 2):
            q = model[k].weight_quantizer
            entries = enc["param_encodings"]["%d.weight" % k]
            assert len(entries) == model[k].out_features
            check_entries(entries, q)
            assert len({e["offset"] for e in entries}) > 1  # asymmetric: offsets differ per channel
            # the sign convention: QNN's dequantization of fastforward's integers
            with torch.no_grad():
                qt = q(model[k].weight)
            unsigned = qt.raw_data.detach().numpy().astype(np.int64) + 128
            assert unsigned.min() >= 0 and unsigned.max() <= 255
            scale = np.array([e["scale"] for e in entries], dtype=np.float32)[:, None]
            offset = np.array([e["offset"] for e in entries], dtype=np.int64)[:, None]
            assert np.array_equal(((unsigned + offset).astype(np.float32) * scale), qt.dequantize().numpy())
        out_q = model[2].output_quantizer
        with torch.no_grad():
            y = model(x)
        (name, entries), = [(k, v) for k, v in enc["activation_encodings"].items()
                            if v[0]["scale"] == float(out_q.scale.detach().reshape(-1)[0])]
        assert name == proto.graph.output[0].name
        check_entries(entries, out_q)
        e = entries[0]
        unsigned = y.raw_data.numpy().astype(np.int64) + 128
        assert np.array_equal((unsigned + e["offset"]).astype(np.float32) * np.float32(e["scale"]),
                              y.dequantize().numpy())

        art = export(model, (x,), tmp, "v1", encoding_version="1.0.0")
        v1 = load_encodings(art)
        assert v1["version"] == "1.0.0" and isinstance(v1["param_encodings"], list)
        by_name = {e["name"]: e for e in v1["param_encodings"]}
        w = by_name["0.weight"]
        assert w["enc_type"] == "PER_CHANNEL" and w["dtype"] == "INT" and w["bw"] == 8 and not w["is_sym"]
        assert w["scale"] == [e["scale"] for e in enc["param_encodings"]["0.weight"]]
        assert w["offset"] == [e["offset"] for e in enc["param_encodings"]["0.weight"]]
        acts = {e["name"]: e for e in v1["activation_encodings"]}
        assert set(acts) == set(enc["activation_encodings"])
        assert all(a["enc_type"] == "PER_TENSOR" and len(a["scale"]) == 1 for a in acts.values())


def test_qnn_disabled_quantizers_have_no_encodings():
    needs_onnx()
    model = calibrated_asymmetric(12, weight_symmetric=True)
    x = torch.randn(16, 16)
    with tempfile.TemporaryDirectory() as tmp:
        with ff.disable_quantization(model):
            art = export(model, (x,), tmp, "off")
        enc = load_encodings(art)
        assert enc["activation_encodings"] == {} and enc["param_encodings"] == {}
        with ff.disable_quantization(model[2]):
            art = export(model, (x,), tmp, "half")
        enc = load_encodings(art)
        assert sorted(enc["param_encodings"]) == ["0.weight"]
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(art.path).graph.initializer}
        # the float weight of the disabled layer is written as it is
        assert any(v.shape == (8, 32) and np.array_equal(v, model[2].weight.detach().numpy())
                   for v in inits.values())
        # the activation encodings are those of the quantizers still on (outside layer 2)
        on = [q for q in activation_quantizer_calls(model, (x,)) if not any(q is m for m in model[2].modules())]
        assert encoding_pairs(enc) == {quantizer_pair(q) for q in on}


def test_qnn_onnx_options():
    """Names given to the graph's inputs and outputs carry the encodings; altered node names;
    the encoding handler's result is what is written; float weights on request; external
    data."""

    from fastforward.export import ExportRequest, QnnOnnxOptions, export_with_pipeline

    needs_onnx()
    model = calibrated_asymmetric(13)
    x = torch.randn(16, 16)
    with tempfile.TemporaryDirectory() as tmp:
        seen = []

        def handler(encodings):
            seen.append(sorted(encodings["activation_encodings"]))
            encodings["activation_encodings"]["y"][0]["note"] = "handled"
            return None

        art, proto, enc = check_qnn_export(model, (x,), tmp, "named", input_names=["x"], output_names=["y"],
                                           alter_node_names=True, encoding_schema_handler=handler)
        assert "x" in enc["activation_encodings"] and "y" in enc["activation_encodings"]
        assert enc["activation_encodings"]["y"][0]["note"] == "handled"
        assert seen and "y" in seen[0]
        assert all(n.name.startswith("ff_") and "/" not in n.name for n in proto.graph.node)
        assert len({n.name for n in proto.graph.node}) == len(proto.graph.node)

        art = export(model, (x,), tmp, "replaced", encoding_schema_handler=lambda e: {"mine": 1})
        assert load_encodings(art) == {"mine": 1}
        try:
            export(model, (x,), tmp, "bad", encoding_schema_handler=lambda e: [e])
        except TypeError as exc:
            assert "encoding_schema_handler" in str(exc)
        else:
            raise AssertionError("a handler returning a list was accepted")
        assert not [f for f in os.listdir(tmp) if f.startswith("bad")]

        request = ExportRequest(model, [((x,), None)], tmp, "float_weights",
                                options=QnnOnnxOptions(store_weights_as_qdq=False))
        art = export_with_pipeline(request)
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(art.path).graph.initializer}
        assert np.array_equal(inits["0.weight"], model[0].weight.detach().numpy())
        with open(art.encodings_path) as f:
            assert json.load(f)["param_encodings"].keys() == {"0.weight", "2.weight"}

        ext = os.path.join(tmp, "ext")
        art = export(model, (x,), ext, "m", onnx_save_kwargs={"save_as_external_data": True,
                                                              "all_tensors_to_one_file": True,
                                                              "size_threshold": 0})
        assert sorted(os.listdir(ext)) == ["m.encodings", "m.onnx", "m.onnx.data"]
        onnx.checker.check_model(art.path)
        assert np.array_equal(onnx.numpy_helper.to_array(
            {t.name: t for t in onnx.load(art.path).graph.initializer}["0.bias"]), model[0].bias.detach().numpy())


def test_qnn_onnx_transformer_block():
    """Several quantizers reading one tensor and quantizers in a row (autoquant's block):
    each encoded tensor is one of the graph's, and the pair is within one step."""
    needs_onnx()
    needs_ffq()
    model, x = calibrated_block()
    with tempfile.TemporaryDirectory() as tmp:
        art, proto, enc = check_qnn_export(model, (x,), tmp, "block")
        assert sorted(enc["param_encodings"]) == sorted(
            n for n, p in model.named_parameters() if n.endswith("weight"))


def test_qnn_onnx_resnet18_cnn():
    """Convolutions (per-channel weights, one entry per output channel) and residual
    connections reading a block's float input: the pair computes what the QDQ export
    computes; end to end within the QDQ export's bounds (test_resnet18_cnn; a narrower
    network here, to keep the test short)."""
    needs_onnx()
    from export_models import ResNet18Like

    torch.manual_seed(3)
    model = calibrated_w8a8(ResNet18Like(width=16).eval(), torch.randn(2, 3, 32, 32))
    x = torch.randn(2, 3, 32, 32)
    with tempfile.TemporaryDirectory() as tmp:
        art, proto, enc = check_qnn_export(model, (x,), tmp, "resnet", steps=2, fused_steps=4)
        convs = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
        assert sorted(enc["param_encodings"]) == sorted([n + ".weight" for n in convs] + ["fc.weight"])
        for name, conv in convs.items():
            check_entries(enc["param_encodings"][name + ".weight"], conv.weight_quantizer)
        # the identity blocks' inputs are read by conv1's input quantizer and, unquantized,
        # by the residual addition: they stay float, conv1 reads an encoded copy
        for k in (1, 3, 5, 7):
            q = model.blocks[k].conv1.input_quantizer
            copies = [n for n in proto.graph.node if n.op_type == "Identity"
                      and encoding_pairs({"activation_encodings": {"t": enc["activation_encodings"].get(
                          n.output[0], [{"scale": 0, "offset": 0}])}}) == {quantizer_pair(q)}]
            assert len(copies) == 1 and copies[0].input[0] not in enc["activation_encodings"], k


def test_qnn_unencodable_quantizers_are_errors():
    needs_onnx()
    x = torch.randn(16, 16)
    with tempfile.TemporaryDirectory() as tmp:
        model = calibrated_asymmetric(14)
        q = LinearQuantizer(8, symmetric=False, granularity=ff.PerChannel(1))
        q.quantization_range = (-torch.ones(32), torch.ones(32))
        model[1].output_quantizer = q
        expect_export_error(model, x, tmp, ["'1.output_quantizer'", "per-channel"], format="onnx")
        model = calibrated_asymmetric(14)
        q = LinearQuantizer(2, symmetric=False)
        q.quantization_range = (-1.0, 1.0)
        model[1].output_quantizer = q
        expect_export_error(model, x, tmp, ["'1.output_quantizer'", "2-bit"], format="onnx")
        assert os.listdir(tmp) == []
        # 16-bit activations have no QDQ form at opset 17, but a QNN encoding
        model = calibrated_asymmetric(14)
        q = LinearQuantizer(16, symmetric=False)
        q.quantization_range = (-1.0, 1.0)
        model[1].output_quantizer = q
        enc = load_encodings(export(model, (x,), tmp, "a16"))
        assert [e for v in enc["activation_encodings"].values() for e in v if e["bitwidth"] == 16]


def plain(t):
    return t.dequantize() if isinstance(t, QuantizedTensor) else t


class Requantized(torch.nn.Module):
    """An encoded graph input; two quantizers in a row (a requantization); optionally two
    quantizers of different grids reading one tensor; an encoded output."""

    def __init__(self, two_readers):
        super().__init__()
        self.two_readers = two_readers
        self.fc = torch.nn.Linear(8, 8)
        # ranges whose scales are not simple ratios of each other (a level of one grid
        # exactly half-way between two of the next is a tie ONNX Runtime's fused kernels
        # may round the other way)
        grids = {"q_in": (-3.1, 2.9), "q_out": (-2.03, 1.97), "q_again": (-1.07, 1.53), "q_a": (0.0, 1.11),
                 "q_b": (0.0, 0.53), "q_final": (0.0, 2.17)}
        for name, (lo, hi) in grids.items():
            q = LinearQuantizer(8, symmetric=False)
            q.quantization_range = (lo, hi)
            setattr(self, name, q)

    def forward(self, x):
        h = plain(self.q_again(plain(self.q_out(self.fc(plain(self.q_in(x)))))))
        r = torch.relu(h)
        y = plain(self.q_a(r))
        if self.two_readers:  # r is read on two grids and unquantized
            y = y + 2 * plain(self.q_b(r)) + 0.125 * r
        return self.q_final(y)


def test_qnn_requantization_and_shared_tensors():
    """A tensor every reader quantizes on one grid carries that encoding itself; a tensor
    holding a quantizer's values quantized again (a requantization), or read unquantized or
    on several grids, is followed by an Identity per quantizer whose output carries its
    encoding. The graph computes what the QDQ export computes, inputs and outputs keep their
    names, and every encoding names one of the graph's tensors."""
    needs_onnx()
    torch.manual_seed(17)
    x = torch.randn(16, 8)
    with tempfile.TemporaryDirectory() as tmp:
        for two in (False, True):
            model = Requantized(two)
            # ONNX Runtime's optimised execution is off by more than a step on these chains
            # (its fused kernels requantize with their own rounding: docs/export.md, "How
            # close ONNX Runtime comes"), for the QDQ export as well: measured 2 steps
            # without the second reader in both formats, 4 (QDQ) and 5 (this graph) with it.
            # The reference execution equals the QDQ export's and is within one step.
            art, proto, enc = check_qnn_export(model, (x,), tmp, "two" if two else "one", fused_steps=2,
                                               check_fused=not two, input_names=["x"], output_names=["y"])
            acts = enc["activation_encodings"]
            pair = {k: encoding_pairs({"activation_encodings": {"t": v}}).pop() for k, v in acts.items()}
            assert pair["x"] == quantizer_pair(model.q_in) and pair["y"] == quantizer_pair(model.q_final)
            identities = [n for n in proto.graph.node if n.op_type == "Identity"]
            requant = identities[0]
            assert pair[requant.input[0]] == quantizer_pair(model.q_out)
            assert pair[requant.output[0]] == quantizer_pair(model.q_again)
            relu = [n for n in proto.graph.node if n.op_type == "Relu"][0].output[0]
            if not two:  # q_a's output is quantized again by q_final, a requantization too
                assert len(identities) == 2, [n.input for n in identities]
                assert pair[relu] == quantizer_pair(model.q_a)
                assert identities[1].input[0] == relu and identities[1].output[0] == "y"
            else:  # the ReLU's output stays float, each reader has its quantized copy
                assert len(identities) == 3, [n.input for n in identities]
                assert relu not in acts
                assert [n.input[0] for n in identities[1:]] == [relu, relu]
                assert {pair[n.output[0]] for n in identities[1:]} == {quantizer_pair(model.q_a),
                                                                       quantizer_pair(model.q_b)}
            assert set(acts) <= graph_tensor_names(proto)
        # a model that is one quantizer: the graph input stays, the output is a copy
        alone = LinearQuantizer(8, symmetric=False)
        alone.quantization_range = (-1.0, 1.0)
        art = export(alone, (x,), tmp, "alone", input_names=["x"], output_names=["y"])
        proto, enc = onnx.load(art.path), load_encodings(art)
        assert [n.op_type for n in proto.graph.node] == ["Identity"]
        assert list(enc["activation_encodings"]) == ["y"]


def test_qnn_frozen_and_held_weights():
    """Integers the model holds are parameters of the encodings too: a frozen weight under
    its parameter's name, a QuantizedTensor attribute under its module's path."""
    needs_onnx()
    x = torch.randn(10, 12)
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(4)
        model = calibrated_w8a8(torch.nn.Sequential(torch.nn.Linear(12, 24), torch.nn.GELU(),
                                                    torch.nn.Linear(24, 6)), x)
        weights = {k: model[k].weight_quantizer(model[k].weight).dequantize().detach().numpy() for k in (0, 2)}
        ff.freeze(model)
        art, proto, enc = check_qnn_export(model, (x,), tmp, "frozen")
        assert sorted(enc["param_encodings"]) == ["0.weight", "2.weight"]
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
        assert all(np.array_equal(inits["%d.weight" % k], weights[k]) for k in (0, 2))
        torch.manual_seed(8)
        model = torch.nn.Sequential(HeldWeightLinear(torch.nn.Linear(12, 48)), torch.nn.ReLU(),
                                    HeldWeightLinear(torch.nn.Linear(48, 8), output=True))
        with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
            model(torch.randn(32, 12))
        art, proto, enc = check_qnn_export(model, (x,), tmp, "held")
        assert sorted(enc["param_encodings"]) == ["0.quantized_param", "2.quantized_param"]
        assert len(enc["param_encodings"]["0.quantized_param"]) == 48


class TwiceApplied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(torch.relu(plain(self.fc(x))))


def test_qnn_layer_applied_twice():
    """A layer called twice quantizes its weight twice: one initializer, one encoding, read
    by both products."""
    needs_onnx()
    torch.manual_seed(18)
    x = torch.randn(16, 8)
    model = calibrated_w8a8(TwiceApplied(), x)
    with tempfile.TemporaryDirectory() as tmp:
        art, proto, enc = check_qnn_export(model, (x,), tmp, "twice")
        assert list(enc["param_encodings"]) == ["fc.weight"]
        gemms = [n for n in proto.graph.node if n.op_type == "Gemm"]
        assert len(gemms) == 2 and all(n.input[1] == "fc.weight" for n in gemms)
        assert [t.name for t in proto.graph.initializer].count("fc.weight") == 1


def test_qnn_per_block_weights():
    """Per-block weights (blocks along the input dimension) in the 1.0.0 layout: one scale and
    offset per block, row-major per output channel; the 0.6.1 layout refuses them."""
    needs_onnx()
    torch.manual_seed(16)
    model = torch.nn.Sequential(torch.nn.Linear(32, 8))
    ff.quantize_model(model)
    cfg = ff.QuantizationConfig()
    cfg.add_rule("0/weight_quantizer", LinearQuantizer, num_bits=4, symmetric=False,
                 granularity=ff.PerBlock(1, 8, per_channel_dims=0))
    cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=False)
    cfg.initialize(model)
    x = torch.randn(16, 32)
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x)
    q = model[0].weight_quantizer
    with tempfile.TemporaryDirectory() as tmp:
        expect_export_error(model, x, tmp, ["'0.weight_quantizer'", "1.0.0"], format="onnx")  # not in 0.6.1
        art = export(model, (x,), tmp, "v1", encoding_version="1.0.0")
        enc = load_encodings(art)
        (w,) = enc["param_encodings"]
        assert w["name"] == "0.weight" and w["enc_type"] == "PER_BLOCK" and w["block_size"] == 8 and w["bw"] == 4
        assert len(w["scale"]) == len(w["offset"]) == 8 * 4
        assert [np.float32(s) for s in w["scale"]] == [np.float32(s) for s in q.scale.detach().reshape(-1).tolist()]
        assert w["offset"] == qnn_offsets(q) and len(set(w["offset"])) > 1
        # the initializer is fastforward's quantized weight, and QNN's formula gives it back
        with torch.no_grad():
            qt = q(model[0].weight)
        init = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(art.path).graph.initializer}["0.weight"]
        assert np.array_equal(init, qt.dequantize().numpy())
        unsigned = qt.raw_data.detach().numpy().astype(np.int64) + 8
        scale = np.repeat(np.array(w["scale"], dtype=np.float32).reshape(8, 4), 8, axis=1)
        offset = np.repeat(np.array(w["offset"], dtype=np.int64).reshape(8, 4), 8, axis=1)
        assert np.array_equal((unsigned + offset).astype(np.float32) * scale, init)


# --- the pipeline API ---------------------------------------------------------------------------


def test_pipeline_registry_and_custom_pipeline():
    from fastforward.export import ExportRequest, export_with_pipeline
    from fastforward.export.pipeline import Pipeline, PipelineOrchestrator, build_default_registry

    needs_onnx()
    model = calibrated_asymmetric(15)
    x = torch.randn(16, 16)
    calls = []

    def quantizer_paths(inputs, sample_inputs, context):
        calls.append(("paths", ff.get_export_mode(), len(sample_inputs)))
        return sorted(name for name, m in context.request.model.named_modules()
                      if isinstance(m, LinearQuantizer))

    def output(inputs, sample_inputs, context):
        (paths,) = inputs
        args, kwargs = sample_inputs[0]
        with torch.no_grad():
            y = context.request.model(*args)
        context.eval_results["shape"] = tuple(y.shape)
        path = os.path.join(context.request.output_dir, context.request.model_name + ".txt")
        with open(path, "w") as f:
            f.write("\n".join(paths))
        return path

    def factory():
        return Pipeline("mine/list").add_stage("paths", quantizer_paths).add_stage("file", output, ("paths",))

    registry = build_default_registry()
    assert registry.supported() == [("qnn", "onnx"), ("qnn", "onnx_qdq")]
    registry.register("Mine", "List", factory)
    with tempfile.TemporaryDirectory() as tmp:
        art = export(model, (x,), tmp, "m", target="MINE", format="list", registry=registry)
        assert art.pipeline_name == "mine/list" and calls == [("paths", True, 1)]
        assert art.eval_results == {"shape": (16, 8)}
        with open(art.stage_outputs["file"]) as f:
            assert f.read().split() == art.stage_outputs["paths"] and "0.input_quantizer" in art.stage_outputs["paths"]
        assert not ff.get_export_mode()
        # the same through an orchestrator, and a request's own pipeline_factory
        art = export(model, (x,), tmp, "m2", target="mine", format="LIST",
                     orchestrator=PipelineOrchestrator(registry))
        assert art.pipeline_name == "mine/list"
        art = export_with_pipeline(ExportRequest(model, [((x,), None)], tmp, "m3", target="any", format="thing",
                                                 pipeline_factory=factory))
        assert os.path.isfile(os.path.join(tmp, "m3.txt"))
        art = export(model, (x,), tmp, "m4", target="any", format="thing", pipeline_factory=factory)
        assert art.pipeline_name == "mine/list" and os.path.isfile(os.path.join(tmp, "m4.txt"))
        # the default registry is not changed by another one
        try:
            export(model, (x,), tmp, "m5", target="mine", format="list")
        except ValueError as exc:
            assert "('qnn', 'onnx')" in str(exc) and "('qnn', 'onnx_qdq')" in str(exc), exc
        else:
            raise AssertionError("the default registry knows a pipeline registered elsewhere")
        try:
            registry.register("mine", "LIST", factory)
        except ValueError as exc:
            assert "registered already" in str(exc)
        else:
            raise AssertionError("a second registration replaced the first silently")
    # stages are checked as they are added
    pipeline = Pipeline("p").add_stage("a", quantizer_paths)
    for name, inputs, fragment in (("a", (), "exists already"), ("b", ("c",), "'c'"), ("", (), "non-empty")):
        try:
            pipeline.add_stage(name, quantizer_paths, inputs)
        except ValueError as exc:
            assert fragment in str(exc), exc
        else:
            raise AssertionError("stage %r accepted" % name)


def test_export_request_errors():
    from fastforward.export.pipeline import PipelineOrchestrator, build_default_registry

    needs_onnx()
    model = torch.nn.Linear(2, 2)
    x = torch.randn(1, 2)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            export(model, (x,), tmp, "m", orchestrator=PipelineOrchestrator(), registry=build_default_registry())
        except ValueError as exc:
            assert "orchestrator" in str(exc) and "registry" in str(exc)
        else:
            raise AssertionError("orchestrator and registry together were accepted")
        for target, fmt, fragment in (("qnn", "tflite", "no pipeline"), ("gguf", "llama_cpp", "not supported")):
            try:
                export(model, (x,), tmp, "m", target=target, format=fmt)
            except ValueError as exc:
                message = str(exc)
                assert fragment in message and "('qnn', 'onnx'), ('qnn', 'onnx_qdq')" in message, message
            else:
                raise AssertionError("no error for %s/%s" % (target, fmt))
        try:
            export(model, (x,), tmp, "m", format="onnx_qdq", encoding_schema_handler=lambda e: e)
        except ValueError as exc:
            assert "onnx_qdq" in str(exc)
        else:
            raise AssertionError("an encoding handler was accepted for onnx_qdq")
        assert os.listdir(tmp) == []
        export(model, x, tmp, "plain")  # a float model: a float graph, empty encodings
        assert sorted(os.listdir(tmp)) == ["plain.encodings", "plain.onnx"]
        art = export(model, x, tmp, "renamed", format="onnx_qdq", alter_node_names=True)
        assert [n.name for n in onnx.load(art.path).graph.node] == ["ff_Gemm"]


# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals()))

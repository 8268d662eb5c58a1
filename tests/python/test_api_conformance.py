"""Conformance of fastforward's public API with the runtime spec (runtime-spec.md): behaviour
a user reaches through the documented names and that the larger suites did not cover.

    python3 tests/python/test_api_conformance.py      # plain runner
    python3 -m pytest -q tests/python/test_api_conformance.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward.nn import (  # noqa: E402
    QuantizedConv1d,
    QuantizedConv2d,
    QuantizedModule,
    QuantizedRelu,
    QuantizedSilu,
    QuantizerStub,
)
from fastforward.quantization import affine  # noqa: E402
from fastforward.quantization.granularity import PerChannel, PerTile  # noqa: E402
from plain_runner import isolation, run  # noqa: E402

setup_function, teardown_function = isolation()


def test_builtin_layers_construct_directly_with_their_float_arguments():
    # A quantized class built on a quantizer-only mixin (QuantizedConv2d(_QuantizedConvNd,
    # nn.Conv2d), QuantizedRelu(_QuantizedActivation, nn.ReLU)) inherited the mixin's
    # construction wrapper, which ran nn.Module.__init__ instead of the float class's:
    # QuantizedConv2d(3, 4, 3) and QuantizedRelu(inplace=True) raised TypeError, and
    # QuantizedRelu() had no 'inplace' (its repr raised AttributeError).
    conv = QuantizedConv2d(3, 4, 3, padding=1)
    assert conv.weight.shape == (4, 3, 3, 3) and conv.padding == (1, 1)
    assert isinstance(conv.weight_quantizer, QuantizerStub)
    assert tuple(conv.weight_quantizer.quant_metadata.shape) == (4, 3, 3, 3)
    conv1 = QuantizedConv1d(2, 5, kernel_size=3, bias=False)
    assert conv1.weight.shape == (5, 2, 3) and conv1.bias_quantizer is None
    for cls in (QuantizedRelu, QuantizedSilu):
        act = cls(inplace=True)
        assert act.inplace is False  # the spec: forces inplace=False
        assert isinstance(act.input_quantizer, QuantizerStub) and "inplace" not in repr(act).split("(")[1]
        assert cls().inplace is False
    with ff.strict_quantization(False):
        x = torch.randn(2, 3, 5, 5)
        assert torch.equal(conv(x), torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=1))
        y = torch.randn(4)
        assert torch.equal(QuantizedRelu(inplace=True)(y), torch.relu(y))


def test_user_mixin_without_float_base_keeps_the_float_init():
    class Mixin(QuantizedModule):
        def __init_quantization__(self):
            super().__init_quantization__()
            self.output_quantizer = QuantizerStub(output_quantizer=True)

    class QuantizedMyLinear(Mixin, torch.nn.Linear, include_in_module_map=False):
        pass

    layer = QuantizedMyLinear(3, 2, bias=False)
    assert layer.weight.shape == (2, 3) and layer.bias is None
    assert isinstance(layer.output_quantizer, QuantizerStub)


def _per_channel_and_tiled():
    x = torch.randn(4, 6)
    return {
        "channel -1": affine.quantize_per_channel(x, torch.rand(6) + 0.01, None, axis=-1),
        "channel 0 with offset": affine.quantize_per_channel(x, torch.rand(4) + 0.01, torch.randn(4) * 3, axis=0),
        "tile": affine.quantize_by_tile(x, torch.rand(4) + 0.01, None, (2, 3)),
        "block": affine.quantize_per_block(x, torch.rand(8) + 0.01, None, 0, 1, 3),
    }


def test_unsqueeze_of_per_channel_and_tiled_tensors_keeps_them_quantized():
    # Only per-tensor tensors had an unsqueeze kernel: a per-channel or per-tile one fell back
    # to dequantization (QuantizationError under the default strict flag). The spec: the
    # granularity follows the new dim (channel dims shift, a tile gains a size-1 dim).
    for name, qt in _per_channel_and_tiled().items():
        for dim in (0, 1, 2, -1, -2, -3):
            for out in (qt.unsqueeze(dim), torch.unsqueeze(qt, dim)):
                assert isinstance(out, ff.QuantizedTensor), (name, dim)
                assert torch.equal(out.dequantize(), qt.dequantize().unsqueeze(dim)), (name, dim)
        twice = qt.unsqueeze(0).unsqueeze(3)
        assert torch.equal(twice.dequantize(), qt.dequantize().unsqueeze(0).unsqueeze(3)), name
    qts = _per_channel_and_tiled()
    assert qts["channel -1"].unsqueeze(0).quant_args().granularity == PerChannel(2)
    assert qts["channel 0 with offset"].unsqueeze(0).quant_args().granularity == PerChannel(1)
    assert qts["tile"].unsqueeze(1).quant_args().granularity == PerTile((2, 1, 3))
    try:
        qts["tile"].unsqueeze(3)
    except IndexError:
        pass
    else:
        raise AssertionError("unsqueeze(3) of a 2-d tensor")


def test_unsqueeze_keeps_the_gradient():
    x = torch.randn(3, 4, requires_grad=True)
    qt = affine.quantize_per_channel(x, torch.full((4,), 0.05), None, axis=-1)
    qt.unsqueeze(0).dequantize().sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def _small_model():
    return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(4, 2)))


def _raises(exc, fn, *words):
    try:
        fn()
    except exc as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return str(e)
    raise AssertionError("no %s" % exc.__name__)


def test_quantize_rejects_what_selects_nothing_before_converting():
    # ff.quantize(include=...) with a pattern that selected nothing (misspelt, or an mpath
    # query naming a class not in scope, which fell back to fnmatch silently) converted the
    # model and quantized nothing; "int99" passed the bit-width check a number gets and
    # failed after the model was converted (half-written: QuantizedLinear with stubs).
    cases = [
        (dict(include="**/[cls:NoSuchLayer]"), ValueError, ("include", "NoSuchLayer", "matches no module")),
        (dict(exclude="lm_head"), ValueError, ("exclude", "'lm_head'", "'2.0'")),
        (dict(include=["0", "zz"]), ValueError, ("'zz'",)),
        (dict(include=3), TypeError, ("include",)),
        (dict(weights="int99"), ValueError, ("2..16", "99")),
        (dict(weights="int1"), ValueError, ("2..16",)),
    ]
    for kwargs, exc, words in cases:
        model = _small_model()
        x = torch.randn(3, 4)
        expected = model(x)
        _raises(exc, lambda: ff.quantize(model, **kwargs), *words)
        assert type(model[0]) is torch.nn.Linear and type(model) is torch.nn.Sequential, kwargs
        assert torch.equal(model(x), expected)
    # patterns that do select something, either way
    for kwargs in (dict(include="2.*"), dict(include="**/[cls:torch.nn.Linear]"), dict(exclude="{0, 1}"),
                   dict(weights="int4", exclude="0")):
        model = _small_model()
        ff.quantize(model, **kwargs)
        assert not isinstance(model[2][0].weight_quantizer, QuantizerStub), kwargs


def _custom_ops():
    # importing fastforward (done above) is what registers them
    assert "fastforward.quantization.affine._ops" in sys.modules
    from fastforward.quantization.affine import _ops

    if not _ops.REGISTERED:
        from plain_runner import skip

        skip("torch %s has no torch.library.register_fake / register_autograd" % torch.__version__)
    return torch.ops.fastforward


def test_torch_custom_ops_are_registered_at_import_and_match_the_quantizers():
    # The spec (sections 1.1, 3.4): importing fastforward registers the torch ops
    # fastforward::quantize_by_tile, dequantize_by_tile, quantize_by_tile_backward and
    # quantize_dynamic_by_tile, with fake implementations, so dynamo / export can trace them.
    # None existed (torch.ops.fastforward had no attribute quantize_by_tile).
    ops = _custom_ops()
    x = torch.randn(4, 6, requires_grad=True)
    scale, offset = torch.rand(4) + 0.01, torch.randn(4) * 3
    ref = affine.quantize_per_channel(x, scale, offset, axis=0)
    raw = ops.quantize_by_tile(x, scale, offset, [1, 6], 8.0)
    assert torch.equal(raw, ref.raw_data)
    assert torch.equal(ops.dequantize_by_tile(raw, scale, offset, [1, 6], 8.0), ref.dequantize())
    whole = ops.quantize_by_tile(x, torch.tensor([0.05]), None, [], 8.0, torch.int8)
    assert torch.equal(whole, affine.quantize_per_tensor(x, 0.05, None, output_dtype=torch.int8).raw_data)
    # gradients: those of the quantizers (clipped STE, LSQ scale and offset gradients)
    g = torch.randn(4, 6)
    s1, o1 = scale.clone().requires_grad_(), offset.clone().requires_grad_()
    ops.dequantize_by_tile(ops.quantize_by_tile(x, s1, o1, [1, 6], 8.0), s1, o1, [1, 6], 8.0).backward(g)
    gx = x.grad.clone()
    x.grad = None
    s2, o2 = scale.clone().requires_grad_(), offset.clone().requires_grad_()
    affine.quantize_per_channel(x, s2, o2, axis=0).dequantize().backward(g)
    assert torch.equal(gx, x.grad) and torch.allclose(s1.grad, s2.grad) and torch.allclose(o1.grad, o2.grad)
    raw, dyn_scale, dyn_offset = ops.quantize_dynamic_by_tile(x, [4, 3], 8.0)
    ref = affine.dynamic.quantize_by_tile(x, (4, 3))
    assert torch.equal(raw, ref.raw_data) and torch.equal(dyn_offset, ref.quant_args().offset)
    assert torch.allclose(dyn_scale, ref.quant_args().scale)
    try:
        ops.quantize_by_tile(x, scale, offset, [3, 6], 8.0)
    except ValueError:
        pass
    else:
        raise AssertionError("a tile that does not divide the data")


def test_torch_custom_ops_pass_opcheck_and_trace():
    ops = _custom_ops()
    if not hasattr(torch.library, "opcheck"):
        from plain_runner import skip

        skip("no torch.library.opcheck")
    cases = [
        (ops.quantize_by_tile, (torch.randn(4, 6, requires_grad=True), torch.rand(4) + 0.01, torch.randn(4), [1, 6], 8.0)),
        (ops.quantize_by_tile, (torch.randn(4, 6), torch.tensor([0.1]), None, [], 4.0)),
        (ops.dequantize_by_tile, (torch.randint(-128, 127, (4, 6)).float().requires_grad_(), torch.rand(4) + 0.01,
                                  None, [1, 6], 8.0)),
        (ops.quantize_dynamic_by_tile, (torch.randn(4, 6, requires_grad=True), [2, 3], 8.0, True, False)),
        (ops.quantize_by_tile_backward, (torch.randn(4, 6), torch.randn(4, 6), torch.rand(4) + 0.01, torch.randn(4),
                                         [1, 6], 8.0)),
    ]
    for op, args in cases:
        torch.library.opcheck(op.default, args)

    class QuantDequant(torch.nn.Module):
        def forward(self, x):
            s = torch.tensor([0.05])
            return ops.dequantize_by_tile(ops.quantize_by_tile(x, s, None, [], 8.0), s, None, [], 8.0)

    program = torch.export.export(QuantDequant(), (torch.randn(3, 4),))
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert {"fastforward.quantize_by_tile.default", "fastforward.dequantize_by_tile.default"} <= targets, targets


def test_qmodule_state_on_a_quanto_style_model_and_on_quantizers_set_later():
    # set_qmodule_state(QUANT_AWARE_TRAIN / QUANTIZED_EVAL) enabled only its own switch: on a
    # model from ff.quantize(activations=8), whose activations ff.quantize holds back until
    # ff.calibration, activations stayed float (the model returned a float tensor). The
    # controller also kept the quantizers of its first use: ones a QuantizationConfig set
    # afterwards were never switched or calibrated. A model without quantizers was silently
    # accepted.
    from fastforward.exceptions import QuantizationError
    from fastforward.nn import LinearQuantizer

    states = ff.QModuleState
    x = torch.randn(8, 4)
    model = ff.quantize(_small_model(), weights=8, activations=8)
    ff.set_qmodule_state(model, states.CALIBRATE, observer=ff.range_setting.ExpAvgMinMax(0.9))
    assert type(model(x)) is torch.Tensor
    ff.set_qmodule_state(model, states.QUANT_AWARE_TRAIN)
    model.eval()
    assert isinstance(model(x), ff.QuantizedTensor)
    with ff.qmodule_state(model, states.FLOAT):
        assert type(model(x)) is torch.Tensor
    assert isinstance(model(x), ff.QuantizedTensor)
    ff.set_qmodule_state(model, states.QUANTIZED_EVAL)
    model.train()
    assert isinstance(model(x), ff.QuantizedTensor)

    model = ff.quantize_model(_small_model())
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=8)
    ff.set_qmodule_state(model, states.FLOAT)
    ff.find_quantizers(model, "**/[quantizer:activation]").initialize(LinearQuantizer, num_bits=8)
    ff.set_qmodule_state(model, states.CALIBRATE)
    model(x)
    assert not model[2][0].output_quantizer.has_uninitialized_params  # calibrated
    ff.set_qmodule_state(model, states.QUANTIZED_EVAL)
    assert isinstance(model(x), ff.QuantizedTensor)
    with ff.qmodule_state(model, states.FLOAT):
        assert type(model(x)) is torch.Tensor

    bare = ff.quantize_model(_small_model())
    for call in (lambda: ff.set_qmodule_state(bare, states.CALIBRATE),
                 lambda: ff.qmodule_state(bare, states.FLOAT).__enter__()):
        _raises(QuantizationError, call, "no quantizers")
    assert ff.quantization.qstate.get_qmodule_state(bare) is None


def test_strict_operand_errors_name_the_place_in_the_model():
    # "fastforward.nn.functional.linear: argument 'input' is not a QuantizedTensor" did not
    # say which of a model's ops it was; the op's output quantizer path now tells.
    from fastforward.exceptions import QuantizationError
    from fastforward.nn import LinearQuantizer

    model = ff.quantize_model(_small_model())
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=8)
    ff.find_quantizers(model, "**/input_quantizer").initialize(LinearQuantizer, num_bits=8)
    ff.find_quantizers(model, "2/0/input_quantizer").initialize(QuantizerStub, overwrite_policy="overwrite")
    for q in model.quantizers():
        q.quantization_range = (-1.0, 1.0)
    _raises(QuantizationError, lambda: model(torch.randn(2, 4)),
            "functional.linear (output quantizer '2.0.output_quantizer')", "argument 'input'", "QuantizerStub")
    # attention names it the same way
    stub = QuantizerStub()
    stub.__dict__["_ff_path"] = "attn.quantizer_sdpa"
    q = torch.randn(1, 2, 3, 4)
    _raises(QuantizationError,
            lambda: ff.nn.functional.scaled_dot_product_attention(q, q, q, output_quantizer=stub),
            "(output quantizer 'attn.quantizer_sdpa')", "'query'")


def test_to_keeps_memory_format_and_copy():
    # QuantizedTensor.to(memory_format=...) returned the tensor unchanged (only a device made
    # it move), and to(..., copy=True) raised "to() does not accept copy argument".
    x = torch.randn(2, 3, 4, 5)
    qt = affine.quantize_per_channel(x, torch.rand(3) + 0.1, torch.randn(3), axis=1)
    moved = qt.to(memory_format=torch.channels_last)
    assert isinstance(moved, ff.QuantizedTensor)
    assert moved.raw_data.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(moved.dequantize(), qt.dequantize())
    for copied in (qt.to("cpu", copy=True), qt.to(copy=True)):
        assert isinstance(copied, ff.QuantizedTensor) and torch.equal(copied.dequantize(), qt.dequantize())
        assert copied.raw_data.data_ptr() != qt.raw_data.data_ptr()
        assert copied.quant_args().scale.data_ptr() != qt.quant_args().scale.data_ptr()
    assert qt.to("cpu").raw_data.data_ptr() == qt.raw_data.data_ptr() and qt.to() is qt
    plain = qt.to(torch.float64, copy=True)
    assert type(plain) is torch.Tensor and plain.dtype == torch.float64


def test_range_estimation_passes_data_on_while_the_quantizer_has_no_range():
    # An update_range_policy that waits for more batches left a fresh quantizer without a
    # range after the first one, and the estimator then quantized with it: ValueError
    # "LinearQuantizer is uninitialized" in the middle of range setting. Same for a first
    # batch without finite values under min-max.
    from fastforward.nn import LinearQuantizer
    from fastforward.range_setting import MinErrorGridRangeEstimator

    q = LinearQuantizer(8)
    x = torch.randn(1000)
    steps = []

    def policy(estimator, step):
        steps.append(step)
        return step >= 3

    with ff.estimate_ranges(q, MinErrorGridRangeEstimator, update_range_policy=policy):
        outs = [q(x) for _ in range(3)]
    assert steps == [1, 2, 3]
    assert type(outs[0]) is torch.Tensor and torch.equal(outs[0], x)
    assert isinstance(outs[2], ff.QuantizedTensor) and not q.has_uninitialized_params
    q = LinearQuantizer(8)
    with ff.estimate_ranges(q, ff.range_setting.running_minmax):
        first = q(torch.full((4,), float("nan")))
        second = q(torch.randn(4))
    assert type(first) is torch.Tensor and isinstance(second, ff.QuantizedTensor)


def _save_load(obj):
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def test_whole_model_pickling_with_switches_and_surrogates():
    # torch.save of a model made by ff.quantize raised "cannot pickle 'weakref.ReferenceType'"
    # (the handles of the switch holding activations back keep their quantizer weakly), and
    # with a surrogate module (a class made at run time) PicklingError. The spec asks that
    # whole-model pickling work.
    from fastforward.nn import LinearQuantizer

    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 5))
    ff.quantize(model, weights=8, activations=8, use_ffq=False)
    loaded = _save_load(model)
    assert type(loaded[2]) is type(model[2]) and type(model[2]).__name__ == "QuantizedFlattenSurrogate"
    assert torch.equal(loaded(x), model(x))  # activations still held back
    with ff.calibration(loaded):
        loaded(x)
    assert isinstance(loaded(x), ff.QuantizedTensor)
    with ff.calibration(model):
        model(x)
    assert torch.equal(_save_load(model)(x).dequantize(), model(x).dequantize())
    ff.freeze(model)
    assert torch.equal(_save_load(model)(x).dequantize(), model(x).dequantize())

    plain = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(4, 4)))
    ff.find_quantizers(plain, "**").initialize(LinearQuantizer, num_bits=8)
    for q in plain.quantizers():
        q.quantization_range = (-1.0, 1.0)
    with ff.disable_quantization(plain):
        copy_ = _save_load(plain)
    with ff.strict_quantization(False):
        assert type(copy_(torch.randn(2, 4))) is torch.Tensor  # saved while switched off
    # handle ids that came back with the quantizer are not issued again
    quantizer = copy_[0].weight_quantizer
    loaded_ids = list(quantizer._overrides_dict())
    handle = quantizer.register_override(lambda q, call, args, kwargs: call(*args, **kwargs))
    assert loaded_ids and handle.handle_id not in loaded_ids


def test_quantization_config_changes_nothing_when_it_fails():
    # QuantizationConfig.initialize applied its rules one after the other: a later rule's
    # error (a slot already holding a quantizer under the default policy, a factory that
    # raises) came after the earlier rules had replaced their stubs, leaving the model half
    # configured.
    from fastforward.exceptions import QuantizationError
    from fastforward.nn import LinearQuantizer

    def kinds(model):
        return [(type(m.weight_quantizer).__name__, type(m.input_quantizer).__name__) for m in (model[0], model[2][0])]

    config = (ff.QuantizationConfig().add_rule("**/weight_quantizer", LinearQuantizer, num_bits=8)
              .add_rule("**/input_quantizer", LinearQuantizer, num_bits=8))
    model = ff.quantize_model(_small_model())
    model[2][0].input_quantizer = LinearQuantizer(4)
    before = kinds(model)
    _raises(QuantizationError, lambda: config.initialize(model), "'2.0.input_quantizer' already holds")
    assert kinds(model) == before

    def factory(name, current):
        if name.startswith("2"):
            raise RuntimeError("no quantizer for %s" % name)
        return LinearQuantizer(8)

    config = (ff.QuantizationConfig().add_rule("0/weight_quantizer", LinearQuantizer, num_bits=8)
              .add_rule("2/0/weight_quantizer", factory))
    model = ff.quantize_model(_small_model())
    before = kinds(model)
    _raises(RuntimeError, lambda: config.initialize(model), "no quantizer for 2.0.weight_quantizer")
    assert kinds(model) == before
    _raises(ValueError, lambda: config.initialize(model, overwrite_policy="never"), "overwrite_policy")
    ok = ff.QuantizationConfig().add_rule("**/weight_quantizer", LinearQuantizer, num_bits=8)
    ok.initialize(model)
    assert model[2][0].weight_quantizer.quant_metadata.weight_quantizer


def test_estimate_ranges_warns_when_there_is_nothing_to_calibrate():
    # A freshly converted model (stubs only) under estimate_ranges calibrated nothing, silently.
    import warnings

    from fastforward.nn import LinearQuantizer

    model = ff.quantize_model(_small_model())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ff.estimate_ranges(model, ff.range_setting.running_minmax), ff.strict_quantization(False):
            model(torch.randn(2, 4))
    assert [str(w.message) for w in caught if "no quantizer to estimate" in str(w.message)], caught
    ff.find_quantizers(model, "0/weight_quantizer").initialize(LinearQuantizer, num_bits=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ff.estimate_ranges(model, ff.range_setting.running_minmax), ff.strict_quantization(False):
            model(torch.randn(2, 4))
    assert not [w for w in caught if "no quantizer to estimate" in str(w.message)]


def test_operator_table_add_alias():
    # autoquant-spec section 6.6: table.add_alias(name, target) adds a name for an operator;
    # OperatorTable had no add_alias.
    import subprocess
    import tempfile
    import textwrap

    from fastforward.autoquant import OperatorTable

    table = OperatorTable().add_alias("mylib.fast_relu", torch.relu)
    assert table.entries == [{"op": "relu(input: Quantized, inplace: Bool = False) -> Quantized",
                              "fallback": "mylib.fast_relu",
                              "dispatch": "fastforward.nn.functional.relu"}]
    _raises(LookupError, lambda: OperatorTable().add_alias("mylib.x", "mylib.nothing"), "mylib.nothing")
    custom = OperatorTable().add("bilinear(input1: Quantized, input2: Quantized, weight: Quantized) -> Quantized",
                                 torch.nn.functional.bilinear, dispatch_op="mylib.qbilinear")
    custom.add_alias("mylib.bl", "torch.nn.functional.bilinear")
    assert custom.entries[-1]["fallback"] == "mylib.bl" and custom.entries[-1]["dispatch"] == "mylib.qbilinear"
    ffq = os.environ.get("FFQ_BINARY")
    if not ffq or not os.path.exists(ffq):
        return
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "mylib.py"), "w") as f:
            f.write("import torch\nfast_relu = torch.relu\n")
        with open(os.path.join(d, "net.py"), "w") as f:
            f.write(textwrap.dedent("""\
                import torch
                from mylib import fast_relu
                class Net(torch.nn.Module):
                    def forward(self, x):
                        return fast_relu(x)
                """))
        args = table.ffq_arguments(d)
        out = subprocess.run([ffq, "autoquant", os.path.join(d, "net.py"), "--module", "net", "-o", "-"] + args,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=d)
        assert out.returncode == 0, out.stderr
        assert "fastforward.nn.functional.relu(x" in out.stdout, out.stdout


def test_two_strict_hooks_on_one_module_leave_the_flag_as_it_was():
    # strict_quantization_for_module restored the flag in its post hook, and torch runs post
    # hooks in registration order (not reversed): with two on one module (ff.quantize's mark
    # and a qmodule_state mode) the first restored True, the second then "restored" False,
    # and strict quantization stayed off for the rest of the program after one forward.
    model = ff.quantize(_small_model(), weights=8, activations=8, use_ffq=False)
    x = torch.randn(3, 4)
    model(x)
    assert ff.get_strict_quantization() is True
    ff.set_qmodule_state(model, ff.QModuleState.CALIBRATE)
    model(x)
    assert ff.get_strict_quantization() is True
    inner = ff.strict_quantization_for_module(False, model[0])
    seen = []
    model[0].register_forward_hook(lambda *args: seen.append(ff.get_strict_quantization()))
    with ff.strict_quantization(True):
        model(x)
        assert seen == [False] and ff.get_strict_quantization() is True
    inner.remove()

    class Boom(Exception):
        pass

    def fail(*args):
        raise Boom()

    hook = model[2].register_forward_pre_hook(fail)
    try:
        model(x)
    except Boom:
        pass
    hook.remove()
    assert ff.get_strict_quantization() is True


def test_a_model_in_any_qmodule_state_pickles():
    # The mode controller kept its hooks and observers in a contextlib.ExitStack of
    # generator-based contexts: torch.save of a model after set_qmodule_state raised "cannot
    # pickle 'generator' object". Loaded, the model keeps its mode (a calibrating one keeps
    # calibrating) and the next change undoes what the mode had installed.
    states = ff.QModuleState
    torch.manual_seed(0)
    x = torch.randn(8, 4)
    model = ff.quantize(_small_model(), weights=8, activations=8, use_ffq=False)
    ff.set_qmodule_state(model, states.CALIBRATE, observer=ff.range_setting.ExpAvgMinMax(0.5))
    model(x)
    loaded = _save_load(model)
    assert ff.quantization.qstate.get_qmodule_state(loaded) is states.CALIBRATE
    out_q = loaded[2][0].output_quantizer
    before = out_q.quantization_range[1].clone()
    loaded(x * 10)
    assert not torch.equal(out_q.quantization_range[1], before)  # still observing
    ff.set_qmodule_state(loaded, states.QUANTIZED_EVAL)
    assert all(type(fn).__name__ == "DisableQuantizationOverride" for fn in out_q.overrides)
    frozen_range = out_q.quantization_range[1].clone()
    assert isinstance(loaded(x * 100), ff.QuantizedTensor)
    assert torch.equal(out_q.quantization_range[1], frozen_range)
    for state in (states.QUANTIZED_EVAL, states.FLOAT, states.QUANT_AWARE_TRAIN):
        ff.set_qmodule_state(loaded, state)
        again = _save_load(loaded)
        assert ff.quantization.qstate.get_qmodule_state(again) is state
        quantized = isinstance(again(x), ff.QuantizedTensor)
        assert quantized == (state is not states.FLOAT)
        assert ff.get_strict_quantization() is True


def test_forward_wrappers_of_old_torch_come_off_in_any_order():
    # torch < 2.1 has no always_call hooks; the strict hooks' post part wraps the instance's
    # forward instead. Removing the outer wrapper deleted the instance's forward, dropping the
    # older wrapper inside it (its pre hook then switched strict quantization off with nothing
    # to switch it back: a qmodule_state FLOAT mode on an ff.quantize'd model, then any other
    # mode); removing an inner one did nothing.
    from fastforward.quantization.strict_quantization import _ForwardWrapper

    calls = []
    layer = torch.nn.Linear(2, 2)
    first = _ForwardWrapper(layer, lambda m, a, o: calls.append("first"))
    second = _ForwardWrapper(layer, lambda m, a, o: calls.append("second"))
    layer(torch.randn(1, 2))
    assert calls == ["first", "second"]
    second.remove()
    calls.clear()
    layer(torch.randn(1, 2))
    assert calls == ["first"]
    third = _ForwardWrapper(layer, lambda m, a, o: calls.append("third"))
    first.remove()  # an inner one
    calls.clear()
    layer(torch.randn(1, 2))
    assert calls == ["third"]
    third.remove()
    assert "forward" not in layer.__dict__


if __name__ == "__main__":
    sys.exit(run(globals()))

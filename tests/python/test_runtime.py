"""Tests of the fastforward Python runtime (runtime/python/fastforward).

Run with any Python that has torch (1.13 or 2.x):

    python3 tests/python/test_runtime.py           # plain runner, no pytest needed
    /usr/bin/python3 tests/python/test_runtime.py  # Debian's python3-torch 1.13
    python3 -m pytest tests/python                 # also works

The plain runner prints one line per test and ends with "N passed, M failed[, K skipped]";
it exits nonzero when a test failed. Tests that need PyYAML or an ffq build are skipped
without them.
"""

import ast
import contextlib
import copy
import json
import operator
import os
import re
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import fastforward  # noqa: E402
from fastforward import QuantizedTensor  # noqa: E402
from fastforward.exceptions import QuantizationError  # noqa: E402
from fastforward.nn import QuantizedModule, Quantizer, QuantizerStub, functional, quantize_model  # noqa: E402
from fastforward.nn import quantized_module as quantized_module_impl  # noqa: E402
from fastforward.quantization.affine import quantize_per_tensor  # noqa: E402
from plain_runner import isolation, run, skip  # noqa: E402


DEFAULT_OPTABLE = os.path.join(REPO, "optable", "default.yaml")


# --- comparing results bit for bit ----------------------------------------------------------

_SAME_SIZE_INT = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def _bits(tensor):
    tensor = tensor.detach().contiguous()
    int_dtype = _SAME_SIZE_INT.get(tensor.dtype)
    return tensor.view(int_dtype) if int_dtype is not None else tensor


def assert_identical(actual, expected, what=""):
    """Same type and, for tensors, same dtype, shape and bits (NaNs and signed zeros too)."""
    assert type(actual) is type(expected), "%s: type %r != %r" % (
        what,
        type(actual),
        type(expected),
    )
    if isinstance(expected, torch.Tensor):
        assert actual.dtype == expected.dtype, "%s: dtype %s != %s" % (
            what,
            actual.dtype,
            expected.dtype,
        )
        assert actual.shape == expected.shape, "%s: shape %s != %s" % (
            what,
            actual.shape,
            expected.shape,
        )
        assert torch.equal(_bits(actual), _bits(expected)), "%s: values differ" % what
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), "%s: length differs" % what
        for item_actual, item_expected in zip(actual, expected):
            assert_identical(item_actual, item_expected, what)
    elif isinstance(expected, float):
        assert actual.hex() == expected.hex(), "%s: %r != %r" % (what, actual, expected)
    else:
        assert actual == expected, "%s: %r != %r" % (what, actual, expected)


class RecordingQuantizer(Quantizer):
    """Returns its input unchanged and remembers it."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def quantize(self, data):
        self.seen.append(data)
        return data


class Doubling(Quantizer):
    def quantize(self, data):
        return data * 2


# --- QuantizedModule: registration, quantize_model, direct instantiation ---------------------


class Events(torch.nn.Module):
    """A float module that logs its construction; quantized versions log theirs."""

    def __init__(self, size=3):
        super().__init__()
        self.events = ["init"]
        self.lin = torch.nn.Linear(size, size)

    def forward(self, x):
        return self.lin(x) + 1


class QuantizedEvents(QuantizedModule, Events):
    def __init_quantization__(self):
        super().__init_quantization__()
        self.events.append("quantize")
        self.quantizer_add = QuantizerStub()

    def forward(self, x):
        return functional.add(self.lin(x), 1, output_quantizer=self.quantizer_add)


def test_class_registers_under_its_float_base():
    assert quantized_module_impl.float_base_of(QuantizedEvents) is Events
    assert quantized_module_impl.quantized_class_for(Events) is QuantizedEvents
    # Exact classes only: a subclass of the float class has no quantized class of its own.
    assert quantized_module_impl.quantized_class_for(type("SubEvents", (Events,), {})) is None


def test_quantized_module_without_float_base_is_not_registered():
    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)

    class Standalone(QuantizedModule):
        pass

    class NotInMap(QuantizedModule, Events, include_in_module_map=False):
        pass

    assert quantized_module_impl.float_base_of(Standalone) is None
    assert quantized_module_impl.quantized_class_for(torch.nn.Module) is None
    assert quantized_module_impl._QUANTIZED_CLASSES == registered
    assert quantized_module_impl.quantized_class_for(Events) is QuantizedEvents


def test_direct_instantiation_runs_init_quantization_after_float_init():
    module = QuantizedEvents(4)
    assert module.events == ["init", "quantize"]
    assert isinstance(module.quantizer_add, QuantizerStub)
    assert dict(module.named_children())["quantizer_add"] is module.quantizer_add
    assert module.lin.in_features == 4


def test_subclass_init_runs_init_quantization_once_at_the_end():
    class Customised(QuantizedEvents, include_in_module_map=False):
        def __init__(self):
            super().__init__(2)
            self.events.append("customised")

    assert Customised().events == ["init", "customised", "quantize"]
    assert quantized_module_impl.quantized_class_for(Events) is QuantizedEvents


def test_float_classes_with_a_metaclass_of_their_own():
    # `class X(nn.Module, ABC)` (transformers' Perceiver and UDOP, MONAI's EfficientNet
    # encoder) or any other metaclass: `class QuantizedX(QuantizedModule, X)`, as ffq writes
    # it, must be definable (it was a "metaclass conflict" TypeError, so the whole generated
    # file failed to import), built directly and reached by quantize_model.
    import abc
    import inspect

    class Registering(type):
        seen = []

        def __new__(mcs, name, bases, ns, **kw):
            cls = super().__new__(mcs, name, bases, ns, **kw)
            mcs.seen.append(name)
            return cls

    class Base(torch.nn.Module, abc.ABC):
        @abc.abstractmethod
        def scale(self):
            ...

    class Scaled(Base):
        def __init__(self, d, factor=2.0):
            super().__init__()
            self.lin = torch.nn.Linear(d, d)
            self.factor = factor
            self.events = ["init"]

        def scale(self):
            return self.factor

        def forward(self, x):
            return self.lin(x) * self.scale()

    class Tagged(torch.nn.Module, metaclass=type("RegisteringModule", (Registering,), {})):
        def __init__(self):
            super().__init__()
            self.events = ["init"]

        def forward(self, x):
            return x + 1

    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)
    try:
        class QuantizedScaled(QuantizedModule, Scaled):
            def __init_quantization__(self):
                super().__init_quantization__()
                self.quantizer_out = QuantizerStub()
                self.events.append("quantize")

        class QuantizedTagged(Tagged, QuantizedModule):  # the other base order
            def __init_quantization__(self):
                super().__init_quantization__()
                self.events.append("quantize")

        assert isinstance(QuantizedScaled, abc.ABCMeta) and "QuantizedTagged" in Registering.seen
        built = QuantizedScaled(3, factor=3.0)
        assert built.events == ["init", "quantize"] and built.factor == 3.0
        assert isinstance(built.quantizer_out, QuantizerStub) and isinstance(built, Base)
        assert list(inspect.signature(QuantizedScaled).parameters) == ["d", "factor"]
        assert QuantizedTagged().events == ["init", "quantize"]
        try:
            QuantizedScaled()  # a missing argument: raised as by Scaled, nothing left half-built
        except TypeError as exc:
            assert "'d'" in str(exc), exc
        else:
            raise AssertionError("QuantizedScaled() without its argument did not raise")
        assert QuantizedScaled(2).events == ["init", "quantize"]

        torch.manual_seed(0)
        model = torch.nn.Sequential(Scaled(4), Tagged())
        x = torch.randn(2, 4)
        expected = model(x)
        quantize_model(model)
        assert [type(m) for m in model] == [QuantizedScaled, QuantizedTagged]
        assert model[0].events == ["init", "quantize"]
        assert_identical(model(x), expected)
    finally:
        quantized_module_impl._QUANTIZED_CLASSES.clear()
        quantized_module_impl._QUANTIZED_CLASSES.update(registered)


def test_plain_quantized_module_and_explicit_super_init():
    built = QuantizedModule()
    assert built.quantizer_metadata == {}  # __init_quantization__ ran

    class Holder(torch.nn.Module):
        def __init__(self, d):
            super().__init__()
            self.d = d

    class QuantizedHolder(QuantizedModule, Holder, include_in_module_map=False):
        def __init__(self, d):
            super().__init__(d)  # through QuantizedModule on to Holder
            self.after = True

        def __init_quantization__(self):
            super().__init_quantization__()
            self.order = "after" if getattr(self, "after", False) else "before"

    held = QuantizedHolder(5)
    assert held.d == 5 and held.order == "after"


def test_most_recently_defined_quantized_class_wins():
    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)
    try:

        class QuantizedEventsAgain(QuantizedModule, Events):
            pass

        class CustomisedEvents(QuantizedEvents):  # its float base is Events too
            pass

        assert quantized_module_impl.quantized_class_for(Events) is CustomisedEvents
        assert type(quantize_model(Events())) is CustomisedEvents
    finally:
        quantized_module_impl._QUANTIZED_CLASSES.clear()
        quantized_module_impl._QUANTIZED_CLASSES.update(registered)


def test_quantize_model_swaps_nested_modules_in_place():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        Events(),
        torch.nn.ModuleList([Events(), torch.nn.ReLU()]),
        torch.nn.ModuleDict({"inner": torch.nn.Sequential(Events())}),
    )
    events = [model[0], model[1][0], model[2]["inner"][0]]
    weights = [module.lin.weight for module in events]
    x = torch.randn(2, 3)
    expected = [module(x) for module in events]

    assert quantize_model(model) is model
    for module, weight, want in zip(events, weights, expected):
        assert type(module) is QuantizedEvents
        assert module.events == ["init", "quantize"]
        assert module.lin.weight is weight  # parameters are kept, not copied
        assert_identical(module(x), want)
    # The containers and ReLU have built-in quantized classes (fastforward.nn.quantized_layers).
    assert type(model) is fastforward.nn.QuantizedSequential
    assert type(model[1][1]) is fastforward.nn.QuantizedRelu
    names = [name for name, _ in model.named_modules()]
    assert "0.quantizer_add" in names and "2.inner.0.quantizer_add" in names


def test_quantize_model_swaps_the_root_and_again_only_with_skip_quantized_modules():
    """A second quantize_model of a quantized model raises QuantizationError naming the
    quantized class (the spec: already-quantized modules are excluded from the check only
    with skip_quantized_modules); with the flag it changes nothing."""
    model = Events()
    quantize_model(model)
    stub = model.quantizer_add
    try:
        quantize_model(model)
    except QuantizationError as exc:
        assert "QuantizedEvents" in str(exc) and "skip_quantized_modules=True" in str(exc), exc
    else:
        raise AssertionError("quantize_model of a quantized model did not raise")
    quantize_model(model, skip_quantized_modules=True)
    quantize_model(model, skip_quantized_modules=True)
    assert type(model) is QuantizedEvents
    assert model.events == ["init", "quantize"]
    assert model.quantizer_add is stub


def test_directly_built_quantized_module_is_left_alone_with_skip_quantized_modules():
    model = torch.nn.Sequential(QuantizedEvents())
    try:
        quantize_model(model)
    except QuantizationError as exc:
        assert "QuantizedEvents" in str(exc), exc
    else:
        raise AssertionError("a quantized module inside the model did not raise")
    quantize_model(model, skip_quantized_modules=True)
    assert model[0].events == ["init", "quantize"]


def test_a_module_shared_in_the_model_is_converted_once_without_error():
    """A module held at two places is converted where first met; meeting it again,
    quantized by the same call, is no error."""
    inner = Events()
    model = torch.nn.Sequential(inner, torch.nn.Sequential(inner))
    quantize_model(model)
    assert type(model[0]) is QuantizedEvents and model[1][0] is model[0]
    assert model[0].events == ["init", "quantize"]


# --- quantized containers: slots are not entries ---------------------------------------------


class DenseLike(torch.nn.ModuleDict):
    """Iterates its own items, as DenseNet's blocks do."""

    def __init__(self):
        super().__init__()
        self.add_module("a", torch.nn.Linear(3, 3))
        self.add_module("b", torch.nn.Linear(3, 3))

    def forward(self, x):
        features = [x]
        for _, layer in self.items():
            features.append(layer(features[-1]))
        return torch.cat(features, 1) * len(self)


class QuantizedDenseLike(QuantizedModule, DenseLike):
    def __init_quantization__(self):
        super().__init_quantization__()
        self.quantizer_cat = Doubling()

    def forward(self, x):
        features = [x]
        for _, layer in self.items():
            features.append(layer(features[-1]))
        return self.quantizer_cat(torch.cat(features, 1)) * len(self)


class ResidualSeq(torch.nn.Sequential):
    def forward(self, x):
        for m in self:
            x = m(x) + x
        return x + self[-1](x) * len(self)


class QuantizedResidualSeq(QuantizedModule, ResidualSeq):
    def __init_quantization__(self):
        super().__init_quantization__()
        self.quantizer_add = Doubling()
        self.quantizer_unused = None


class IndexedList(torch.nn.ModuleList):
    def forward(self, x):
        for i in range(len(self)):
            x = self[i](x)
        return x


class QuantizedIndexedList(QuantizedModule, IndexedList):
    def __init_quantization__(self):
        super().__init_quantization__()
        self.quantizer_x = Doubling()


def test_container_quantizers_are_not_container_entries():
    # Doubling quantizers would change the results if the containers ran them as layers.
    torch.manual_seed(0)
    x = torch.randn(2, 3)
    dense = DenseLike()
    qdense = quantize_model(copy.deepcopy(dense))
    assert type(qdense) is QuantizedDenseLike and len(qdense) == 2
    assert list(qdense.keys()) == ["a", "b"] and "quantizer_cat" not in qdense
    assert [k for k, _ in qdense.items()] == ["a", "b"] and len(list(qdense.values())) == 2
    assert_identical(qdense(x), dense(x) * 2)

    seq = ResidualSeq(torch.nn.Linear(3, 3), torch.nn.ReLU())
    qseq = quantize_model(copy.deepcopy(seq))
    assert len(qseq) == 2 and type(qseq[-1]) is fastforward.nn.QuantizedRelu
    assert len(list(iter(qseq))) == 2 and len(list(reversed(qseq))) == 2
    assert_identical(qseq(x), seq(x))
    try:
        qseq[2]
    except IndexError:
        pass
    else:
        raise AssertionError("qseq[2] should be out of range")

    lst = IndexedList([torch.nn.Linear(3, 3), torch.nn.ReLU()])
    qlst = quantize_model(copy.deepcopy(lst))
    assert len(qlst) == 2 and [type(m).__name__ for m in qlst] == ["QuantizedLinear", "QuantizedRelu"]
    assert_identical(qlst(x), lst(x))


def test_container_quantizers_stay_visible_to_module_methods():
    qlst = quantize_model(IndexedList([torch.nn.Linear(3, 3)]))
    names = [n for n, _ in qlst.named_modules()]
    assert "quantizer_x" in names and "quantizer_x" in dict(qlst.named_children())
    assert [n for n, _ in qlst.named_quantizers()] == ["quantizer_x"]
    qlst.quantizer_x.register_buffer("scale", torch.ones(1))
    assert "quantizer_x.scale" in qlst.state_dict()
    qlst.to(torch.float64)
    assert qlst.quantizer_x.scale.dtype == torch.float64 and qlst[0].weight.dtype == torch.float64


def test_container_edits_keep_the_quantizers_out_of_the_numbering():
    qlst = quantize_model(IndexedList([torch.nn.Linear(3, 3), torch.nn.ReLU()]))
    slot = qlst.quantizer_x
    qlst.append(torch.nn.Identity())
    qlst.insert(0, torch.nn.Tanh())
    del qlst[1]
    qlst[0] = torch.nn.Sigmoid()
    qlst.extend([torch.nn.ReLU()])
    qlst += [torch.nn.ReLU()]
    assert list(qlst._modules) == ["0", "1", "2", "3", "4", "quantizer_x"]
    assert [type(m).__name__ for m in qlst] == ["Sigmoid", "QuantizedRelu", "Identity", "ReLU", "ReLU"]
    assert qlst.quantizer_x is slot and qlst.pop(0).__class__ is torch.nn.Sigmoid and len(qlst) == 4
    # A quantizer put in as an entry is a layer, not a slot.
    qlst[0] = Doubling()
    assert "0" not in qlst.quantizer_metadata and len(qlst) == 4

    qseq = quantize_model(ResidualSeq(torch.nn.Linear(3, 3), torch.nn.ReLU()))
    qseq.append(torch.nn.Identity())
    part = qseq[1:]
    assert type(part) is QuantizedResidualSeq and list(part._modules) == ["1", "2", "quantizer_add"]
    del qseq[0]
    assert list(qseq._modules) == ["0", "1", "quantizer_add"]

    qdict = quantize_model(DenseLike())
    qdict["c"] = torch.nn.ReLU()
    qdict.pop("a")
    qdict.update({"d": torch.nn.ReLU()})
    assert list(qdict._modules) == ["b", "c", "d", "quantizer_cat"]
    qdict.clear()
    assert list(qdict._modules) == ["quantizer_cat"] and len(qdict) == 0


# --- quantizers ----------------------------------------------------------------------------


def test_quantizer_stub_is_identity_for_any_value():
    stub = QuantizerStub()
    assert isinstance(stub, Quantizer) and isinstance(stub, torch.nn.Module)
    for value in (torch.randn(3), torch.tensor(2), [2], 3, 2.5, None, "s", (1, 2)):
        assert stub(value) is value


def test_quantizer_calls_quantize():
    recorder = RecordingQuantizer()
    x = torch.randn(2)
    assert recorder(x) is x and recorder.seen == [x]
    try:
        Quantizer()(x)
    except NotImplementedError:
        pass
    else:
        raise AssertionError("Quantizer.quantize must be abstract")


# --- QuantizedTensor ----------------------------------------------------------------------------


def _quantized(raw, scale, offset=None):
    """A per-tensor affine QuantizedTensor holding ``raw`` (real value (raw + offset) * scale)."""
    from fastforward.quantization.affine import quantization_context

    return quantization_context(scale, offset, num_bits=16).attach(raw)


def test_quantized_tensor_dequantizes_affinely():
    raw = torch.tensor([-2, 0, 3], dtype=torch.int8)
    q = _quantized(raw, torch.tensor(0.5), torch.tensor(1.0))
    assert isinstance(q, torch.Tensor) and isinstance(q, QuantizedTensor)
    assert q.raw_data.dtype == torch.int8 and type(q.raw_data) is torch.Tensor
    assert_identical(q.dequantize(), torch.tensor([-0.5, 0.5, 2.0]))
    assert_identical(_quantized(raw, torch.tensor(0.5)).dequantize(), torch.tensor([-1.0, 0.0, 1.5]))
    assert "QuantizedTensor" in repr(q)
    x = torch.tensor([-1.0, 0.26, 2.0])
    assert_identical(quantize_per_tensor(x, 0.5).raw_data, torch.tensor([-2.0, 1.0, 4.0]))


def test_torch_ops_on_quantized_tensor_see_dequantized_values():
    q = _quantized(torch.tensor([-2.0, 0.0, 3.0]), torch.tensor(0.25), torch.tensor(-1.0))
    dq = q.dequantize()
    assert_identical(torch.relu(q), torch.relu(dq))
    assert_identical(q + 1, dq + 1)
    # cat of tensors sharing scale and offset stays quantized (a dispatcher kernel)
    assert_identical(torch.cat([q, q]).dequantize(), torch.cat([dq, dq]))
    assert q.shape == dq.shape


def test_quantized_tensor_keeps_autograd():
    raw = torch.randn(3, requires_grad=True)
    _quantized(raw, torch.tensor(2.0)).dequantize().sum().backward()
    assert_identical(raw.grad, torch.full((3,), 1.0))  # dequantize is straight-through


# --- functional ops ---------------------------------------------------------------------------


def _operator_table():
    """(identifier, parameter names, defaults, quantized parameter names, fallback) per entry."""
    try:
        import yaml
    except ImportError:
        skip("PyYAML is not installed")
    with open(DEFAULT_OPTABLE, encoding="utf-8") as source:
        table = yaml.safe_load(source)
    entries = table["operators"] if isinstance(table, dict) else table
    ops = []
    for entry in entries:
        header = ast.parse("def " + entry["op"] + ": pass").body[0]
        params = [arg.arg for arg in header.args.args]
        defaults = [ast.literal_eval(value) for value in header.args.defaults]
        quantized = [arg.arg for arg in header.args.args if "Quantized" in ast.dump(arg.annotation)]
        with_default = params[len(params) - len(defaults) :]
        ops.append(
            (header.name, params, dict(zip(with_default, defaults)), quantized, entry["fallback"])
        )
    return ops


def _resolve(dotted):
    """The object a dotted name such as torch.nn.functional.linear denotes, or None."""
    parts = dotted.split(".")
    value = __import__(parts[0])
    for part in parts[1:]:
        value = getattr(value, part, None)
    return value


def _sample_arguments():
    """Keyword arguments (every schema parameter, non-default values where possible) per op."""
    torch.manual_seed(1234)
    t = torch.randn

    def ints(*shape, low=-50, high=50):
        return torch.randint(low, high, shape)

    like = dict(
        dtype=torch.float64,
        layout=torch.strided,
        device="cpu",
        requires_grad=False,
        memory_format=torch.contiguous_format,
    )
    conv = dict(stride=2, padding=1, dilation=1, groups=1)
    conv_t = dict(stride=2, padding=1, output_padding=1, groups=1, dilation=1)
    # (inplace=False: the op and then its fallback run on the same arguments, and in place they
    # would compare a tensor with itself; test_in_place_activations_* covers inplace=True)
    # fmt: off
    return {
        "linear": dict(input=t(3, 4), weight=t(5, 4), bias=t(5)),
        "conv1d": dict(input=t(2, 3, 8), weight=t(4, 3, 3), bias=t(4), **conv),
        "conv2d": dict(input=t(2, 4, 8, 8), weight=t(4, 2, 3, 3), bias=t(4), stride=1,
                       padding="same", dilation=2, groups=2),
        "conv3d": dict(input=t(1, 2, 5, 5, 5), weight=t(3, 2, 3, 3, 3), bias=t(3), **conv),
        "conv_transpose1d": dict(input=t(2, 4, 6), weight=t(4, 3, 3), bias=t(3), **conv_t),
        "conv_transpose2d": dict(input=t(2, 4, 5, 5), weight=t(4, 2, 3, 3), bias=t(4), stride=2,
                                 padding=0, output_padding=0, groups=2, dilation=1),
        "conv_transpose3d": dict(input=t(1, 2, 3, 3, 3), weight=t(2, 3, 2, 2, 2), bias=None,
                                 stride=1, padding=0, output_padding=0, groups=1, dilation=2),
        "embedding": dict(input=torch.tensor([[0, 2], [4, 3]]), weight=t(5, 3), padding_idx=0,
                          max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False),
        "softmax": dict(input=t(3, 4), dim=0, dtype=torch.float64),
        "relu": dict(input=t(3, 4), inplace=False),
        "sigmoid": dict(input=t(3, 4)),
        "silu": dict(input=t(3, 4), inplace=False),
        "gelu": dict(input=t(3, 4), approximate="tanh"),
        "dropout": dict(input=t(3, 4), p=0.3, training=True, inplace=False),
        "leaky_relu": dict(input=t(3, 4), negative_slope=0.2, inplace=False),
        "hardtanh": dict(input=t(3, 4), min_val=-0.5, max_val=0.75, inplace=False),
        "relu6": dict(input=t(3, 4) * 8, inplace=False),
        "elu": dict(input=t(3, 4), alpha=0.5, inplace=False),
        "hardswish": dict(input=t(3, 4) * 4, inplace=False),
        "hardsigmoid": dict(input=t(3, 4) * 4, inplace=False),
        "mish": dict(input=t(3, 4), inplace=False),
        "softplus": dict(input=t(3, 4), beta=2, threshold=1.5),
        "glu": dict(input=t(3, 4), dim=1),
        "erf": dict(input=t(3, 4)),
        "layer_norm": dict(input=t(2, 3, 4), normalized_shape=(3, 4), weight=t(3, 4),
                           bias=t(3, 4), eps=1e-3),
        "group_norm": dict(input=t(2, 6, 5), num_groups=3, weight=t(6), bias=t(6), eps=1e-3),
        "rms_norm": dict(input=t(2, 3, 4), normalized_shape=(4,), weight=t(4), eps=1e-6),
        "scaled_dot_product_attention": dict(query=t(2, 3, 5, 4), key=t(2, 3, 6, 4), value=t(2, 3, 6, 4),
                                             attn_mask=None, dropout_p=0.0, is_causal=True, scale=0.4,
                                             enable_gqa=False),
        "avg_pool1d": dict(input=t(2, 3, 9), kernel_size=3, stride=2, padding=1, ceil_mode=True,
                           count_include_pad=False),
        "avg_pool2d": dict(input=t(2, 3, 9, 9), kernel_size=(3, 2), stride=2, padding=1,
                           ceil_mode=False, count_include_pad=True, divisor_override=5),
        "avg_pool3d": dict(input=t(1, 2, 5, 5, 5), kernel_size=2, stride=1, padding=0,
                           ceil_mode=True, count_include_pad=False, divisor_override=3),
        "max_pool2d": dict(input=t(1, 2, 7, 7), kernel_size=3, stride=2, padding=1, dilation=1,
                           ceil_mode=True),
        "adaptive_avg_pool1d": dict(input=t(2, 3, 9), output_size=4),
        "adaptive_avg_pool2d": dict(input=t(2, 3, 9, 7), output_size=(4, None)),
        "adaptive_avg_pool3d": dict(input=t(1, 2, 5, 5, 5), output_size=2),
        "pixel_shuffle": dict(input=t(1, 8, 3, 3), upscale_factor=2),
        "pixel_unshuffle": dict(input=t(1, 2, 4, 6), downscale_factor=2),
        "pad": dict(input=t(1, 2, 4, 4), pad=(1, 2, 0, 1), mode="constant", value=1.5),
        "interpolate": dict(input=t(1, 2, 4, 4), size=None, scale_factor=1.5, mode="bilinear",
                            align_corners=False, recompute_scale_factor=None, antialias=False),
        "unfold": dict(input=t(1, 2, 5, 5), kernel_size=2, dilation=1, padding=1, stride=2),
        "matmul": dict(input=t(2, 3, 4), other=t(4, 5)),
        "mm": dict(input=t(3, 4), mat2=t(4, 5)),
        "addmm": dict(input=t(5), mat1=t(3, 4), mat2=t(4, 5), beta=0.5, alpha=2),
        "baddbmm": dict(input=t(2, 3, 5), batch1=t(2, 3, 4), batch2=t(2, 4, 5), beta=0, alpha=0.25),
        "bmm": dict(input=t(2, 3, 4), mat2=t(2, 4, 5)),
        "add": dict(input=t(3, 4), other=t(4), alpha=2),
        "sub": dict(input=t(3, 4), other=t(3, 4), alpha=0.5),
        "mul": dict(input=t(3, 4), other=t(3, 1)),
        "div": dict(input=t(3, 4), other=t(3, 4), rounding_mode="floor"),
        "floor_divide": dict(input=t(3, 4), other=t(3, 4)),
        "remainder": dict(input=t(3, 4), other=t(3, 4)),
        "pow": dict(input=t(3, 4).abs(), exponent=t(3, 4)),
        "bitwise_and": dict(input=ints(3, 4), other=ints(3, 4)),
        "bitwise_or": dict(input=ints(3, 4), other=ints(3, 4)),
        "bitwise_xor": dict(input=ints(3, 4), other=ints(3, 4)),
        "bitwise_left_shift": dict(input=ints(3, 4), other=ints(3, 4, low=0, high=8)),
        "bitwise_right_shift": dict(input=ints(3, 4), other=ints(3, 4, low=0, high=8)),
        "bitwise_not": dict(input=ints(3, 4)),
        "negative": dict(input=t(3, 4)),
        "positive": dict(input=t(3, 4)),
        "sum": dict(input=t(3, 4), dim=1, keepdim=True, dtype=torch.float64),
        "mean": dict(input=t(2, 3, 4), dim=(0, 2), keepdim=True, dtype=torch.float64),
        "cumsum": dict(input=t(3, 4), dim=1, dtype=torch.float64),
        "exp": dict(input=t(3, 4)),
        "sin": dict(input=t(3, 4)),
        "cos": dict(input=t(3, 4)),
        "tanh": dict(input=t(3, 4)),
        "rsqrt": dict(input=t(3, 4).abs() + 0.1),
        "sqrt": dict(input=t(3, 4).abs()),
        "permute": dict(input=t(2, 3, 4), dims=(2, 0, 1)),
        "cat": dict(tensors=[t(2, 3), t(4, 3)], dim=0),
        "stack": dict(tensors=[t(2, 3), t(2, 3)], dim=1),
        "clamp": dict(input=t(3, 4), min=-0.5, max=0.75),
        "normalize": dict(input=t(3, 4), p=1.0, dim=0, eps=1e-3),
        "index_add": dict(input=t(5, 3), dim=0, index=torch.tensor([0, 4, 2]), source=t(3, 3),
                          alpha=2.0),
        "ones_like": dict(input=t(2, 3), **like),
        "zeros_like": dict(input=t(2, 3), **like),
        "empty_like": dict(input=t(2, 3), **like),
        "full_like": dict(input=t(2, 3), fill_value=2.5, **like),
    }
    # fmt: on


# Ops whose result is random (compared after reseeding) or uninitialised (shape/dtype only).
_RANDOM_OPS = {"dropout"}
_UNINITIALISED_OPS = {"empty_like"}


def _call_and_compare(name, fn, fallback, kwargs):
    torch.manual_seed(7)
    recorder = RecordingQuantizer()
    result = fn(output_quantizer=recorder, **kwargs)
    # an integer or bool result (bitwise_not of ints) passes a quantizer unchanged, unquantized
    quantizable = isinstance(result, torch.Tensor) and result.is_floating_point()
    assert len(recorder.seen) == int(quantizable) and (not quantizable or recorder.seen[0] is result), (
        "%s: output_quantizer not applied" % name
    )
    if fallback is None:
        return result
    torch.manual_seed(7)
    expected = fallback(**kwargs)
    if name in _UNINITIALISED_OPS:
        assert (result.dtype, result.shape) == (expected.dtype, expected.shape), name
    else:
        assert_identical(result, expected, name)
    return result


def test_every_operator_table_entry_has_a_functional_op():
    ops = _operator_table()
    names = [op[0] for op in ops]
    # (plus the hand-written sdpa_upcast, public beside its attention op: runtime-spec 1.2)
    assert sorted(set(names) | {"sdpa_upcast"}) == sorted(functional.__all__), "functional.__all__ is out of date"
    import inspect

    for name, params, defaults, _, _ in ops:
        fn = getattr(functional, name, None)
        assert fn is not None, "fastforward.nn.functional.%s is missing" % name
        signature = inspect.signature(fn).parameters
        positional = [p for p in signature.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
        assert [p.name for p in positional] == params, (
            "%s: parameters differ from the schema" % name
        )
        for param in positional:
            if param.name in defaults:
                assert param.default == defaults[param.name], "%s: default of %s" % (
                    name,
                    param.name,
                )
            else:
                assert param.default is param.empty, "%s: %s must have no default" % (
                    name,
                    param.name,
                )
        output_quantizer = signature["output_quantizer"]
        assert (
            output_quantizer.kind == output_quantizer.KEYWORD_ONLY
            and output_quantizer.default is None
        )


def test_functional_ops_called_with_schema_keywords_match_their_fallback():
    samples = _sample_arguments()
    for name, params, _, _, fallback_name in _operator_table():
        assert name in samples, "add sample arguments for %s to this test" % name
        kwargs = samples[name]
        assert sorted(kwargs) == sorted(params), (
            "%s: sample must name every schema parameter" % name
        )
        fallback = _resolve(fallback_name)  # None, e.g. for rms_norm on torch < 2.4
        _call_and_compare(name, getattr(functional, name), fallback, kwargs)


def test_functional_ops_dequantize_quantized_arguments():
    samples = _sample_arguments()
    for name, _, _, quantized, _ in _operator_table():
        torch.manual_seed(99)
        with_q, with_dq = dict(samples[name]), dict(samples[name])
        for param in set(quantized) | {"tensors"}:
            value = with_q.get(param)
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                q = _quantized(torch.randint(-8, 8, value.shape).to(value.dtype), torch.tensor(0.25), torch.tensor(-1.0))
                with_q[param], with_dq[param] = q, q.dequantize()
            elif isinstance(value, list):
                # different scales: the float fallback, not the same-parameters cat kernel
                qs = [
                    _quantized(torch.randint(-8, 8, v.shape).float(), torch.tensor(0.5 / (i + 1)))
                    for i, v in enumerate(value)
                ]
                with_q[param], with_dq[param] = qs, [q.dequantize() for q in qs]
        fn = getattr(functional, name)
        torch.manual_seed(7)
        from_q = fn(**with_q)
        torch.manual_seed(7)
        from_dq = fn(**with_dq)
        if name not in _UNINITIALISED_OPS:
            assert_identical(from_q, from_dq, name)
            assert type(from_q) is torch.Tensor, "%s: result must be a plain tensor" % name


def test_functional_ops_with_positional_arguments():
    torch.manual_seed(3)
    x4 = torch.randn(1, 3, 8, 8)
    w = torch.randn(6, 3, 3, 3)
    cases = [
        (functional.conv2d, F.conv2d, (x4, w, None, 2, 1)),
        (functional.conv2d, F.conv2d, (x4, w, torch.randn(6), 1, "valid", 1, 1)),
        (functional.max_pool2d, F.max_pool2d, (x4, 2)),
        (functional.avg_pool2d, F.avg_pool2d, (x4, 3, 2, 1, True)),
        (functional.avg_pool2d, F.avg_pool2d, (x4, 2)),
        (functional.avg_pool2d, F.avg_pool2d, (x4, 3, None, 1, False, False, 4)),
        (functional.avg_pool1d, F.avg_pool1d, (x4[0], 3)),
        (functional.avg_pool3d, F.avg_pool3d, (x4[None], 2)),
        (functional.interpolate, F.interpolate, (x4, (5, 11), None, "nearest")),
        (functional.interpolate, F.interpolate, (x4, None, 2.0, "bicubic", True)),
        (functional.pad, F.pad, (x4, (1, 1, 2, 0), "reflect")),
        (functional.pad, F.pad, (x4, (1, 1))),
        (functional.unfold, F.unfold, (x4, (2, 3))),
        (functional.softmax, F.softmax, (x4, -1)),
        (functional.gelu, F.gelu, (x4,)),
        (functional.layer_norm, F.layer_norm, (x4, (8,))),
        (functional.cat, torch.cat, ((x4, x4 * 2), 1)),
        (functional.cat, torch.cat, ([x4, x4],)),
        (functional.sum, torch.sum, (x4,)),
        (functional.sum, torch.sum, (x4, -1)),
        (functional.sum, torch.sum, (x4, (1, 2), True)),
        (functional.sum, torch.sum, (x4, None, True)),
        (functional.mean, torch.mean, (x4,)),
        (functional.clamp, torch.clamp, (x4, None, 0.5)),
        (functional.clamp, torch.clamp, (x4, x4 * 0.5, x4 * 0 + 1)),
        (functional.stack, torch.stack, ((x4, x4 * 2), 1)),
        (functional.normalize, F.normalize, (x4,)),
        (functional.mean, torch.mean, (x4, -1, True)),
        (functional.cumsum, torch.cumsum, (x4, 2)),
        (functional.linear, F.linear, (torch.randn(4, 3), torch.randn(2, 3))),
        (functional.full_like, torch.full_like, (x4, 7)),
        (
            functional.index_add,
            torch.index_add,
            (torch.zeros(4, 2), 0, torch.tensor([1, 1, 3]), torch.ones(3, 2)),
        ),
        (functional.permute, torch.permute, (x4, (0, 2, 3, 1))),
    ]
    for fn, torch_fn, args in cases:
        assert_identical(fn(*args), torch_fn(*args), fn.__name__)
        assert_identical(fn(*args, output_quantizer=QuantizerStub()), torch_fn(*args), fn.__name__)
    assert_identical(functional.relu(x4, output_quantizer=Doubling()), F.relu(x4) * 2)


def test_in_place_activations_change_a_plain_input_and_copy_a_quantized_one():
    # F.silu(x, inplace=True), F.relu(x, True) and the other activations taking inplace are
    # table ops: a plain tensor (stubs) is changed in place as torch changes it; a
    # QuantizedTensor keeps its grid values (the op runs on its dequantized copy) and the
    # result is the activation of its real values.
    names = ("silu", "relu", "relu6", "hardswish", "hardsigmoid", "mish", "leaky_relu", "hardtanh", "elu")
    for name in names:
        torch_fn = getattr(F, name)
        x = torch.randn(3, 4) * 4
        expected = torch_fn(x.clone())
        plain = x.clone()
        by_position = name in ("silu", "relu")  # (the second parameter is inplace)
        if by_position:
            result = getattr(functional, name)(plain, True, output_quantizer=QuantizerStub())
        else:
            result = getattr(functional, name)(plain, inplace=True, output_quantizer=QuantizerStub())
        assert result is plain, "%s: inplace=True must return its input" % name
        assert_identical(plain, expected, name)
        q = _quantized(torch.randint(-8, 8, (3, 4)).float(), torch.tensor(0.25))
        before = q.dequantize().clone()
        out = getattr(functional, name)(q, inplace=True, strict_quantization=False)
        assert_identical(q.dequantize(), before, name)
        assert_identical(out, torch_fn(before), name)


def test_rms_norm_matches_torch_where_torch_has_it():
    torch.manual_seed(5)
    x, weight = torch.randn(2, 3, 8), torch.randn(8)
    reference = functional._rms_norm_reference
    if hasattr(F, "rms_norm"):
        for args in (
            (x, (8,), weight, 1e-5),
            (x, (3, 8), None, None),
            (x.half(), (8,), None, None),
        ):
            expected = F.rms_norm(*args)
            assert torch.allclose(reference(*args).float(), expected.float(), rtol=1e-3, atol=1e-3)
            assert_identical(functional.rms_norm(*args), expected)
    # The formula, whatever the torch version.
    expected = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight
    assert torch.allclose(reference(x, (8,), weight, 1e-5), expected)


# Python operators: functional op name -> the operator it stands for.
BINARY_OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floor_divide": operator.floordiv,
    "remainder": operator.mod,
    "pow": operator.pow,
    "matmul": operator.matmul,
    "bitwise_and": operator.and_,
    "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor,
    "bitwise_left_shift": operator.lshift,
    "bitwise_right_shift": operator.rshift,
}
UNARY_OPERATORS = {
    "negative": operator.neg,
    "positive": operator.pos,
    "bitwise_not": operator.invert,
}
ARITHMETIC = ("add", "sub", "mul", "div", "floor_divide", "remainder", "pow")
BITWISE = ("bitwise_and", "bitwise_or", "bitwise_xor")
SHIFTS = ("bitwise_left_shift", "bitwise_right_shift")


def _operand_pairs(name):
    """Operand pairs for a binary operator: tensors, scalar/tensor mixes, plain Python values."""
    torch.manual_seed(11)
    f = torch.randn(3, 4)
    g = torch.randn(4) + 3.0  # away from zero: a divisor
    i = torch.randint(-20, 20, (3, 4))
    j = torch.randint(1, 6, (3, 4))  # positive: a divisor, an exponent, a shift
    b = torch.rand(3, 4) > 0.5
    if name in ARITHMETIC:
        pairs = [
            (f, g),
            (f, 2.5),
            (2.5, g),
            (i, 3),
            (-7, j),
            (i, j),
            (f, j),
            (i, 0.5),
            (7, 2),
            (-7, 2),
            (7.5, 2),
            (2, 0.5),
            (f.double(), f),
            (torch.tensor(3.0), f),
        ]
        if name in ("pow",):
            pairs += [(2, 10), (2, -1), (f, 2), (2, f), (f.abs(), 0.5), (j, 2)]
        if name in ("add",):
            pairs += [([1, 2], [3]), ("ab", "cd"), ((1,), (2, 3))]
        if name in ("mul",):
            pairs += [([1, 2], 3), (2, "ab"), (b, b)]
        return pairs
    if name in BITWISE:
        return [
            (i, j),
            (i, 5),
            (5, i),
            (b, b),
            (b, True),
            (6, 3),
            (True, False),
            (j.to(torch.uint8), 7),
        ]
    if name in SHIFTS:
        return [(i, j), (i, 2), (3, j), (j.to(torch.int8), 1), (5, 2), (-5, 1)]
    if name == "matmul":
        return [
            (f, torch.randn(4)),
            (torch.randn(4), torch.randn(4)),
            (torch.randn(2, 3, 4), torch.randn(4, 5)),
            (torch.randn(4), torch.randn(4, 2)),
            (i, j.t()),
        ]
    raise AssertionError(name)


def test_binary_operators_are_bitwise_identical_to_python_syntax():
    for name, python_operator in BINARY_OPERATORS.items():
        fn = getattr(functional, name)
        torch_fn = getattr(torch, name)
        for left, right in _operand_pairs(name):
            what = "%s(%r, %r)" % (name, type(left).__name__, type(right).__name__)
            expected = python_operator(left, right)
            assert_identical(fn(left, right), expected, what)
            stub = QuantizerStub()
            assert_identical(fn(left, right, output_quantizer=stub), expected, what)
            if isinstance(left, torch.Tensor):
                # The torch function this op also stands for computes the same thing.
                assert_identical(fn(left, right), torch_fn(left, right), what + " vs torch")


def test_unary_operators_are_bitwise_identical_to_python_syntax():
    torch.manual_seed(12)
    f = torch.randn(3, 4)
    i = torch.randint(-20, 20, (3, 4))
    b = torch.rand(3) > 0.5
    operands = {
        "negative": [f, i, f.double(), 3, -2.5, 0.0, True],
        "positive": [f, i, 3, -2.5],
        "bitwise_not": [i, b, i.to(torch.uint8), 5, -1],
    }
    for name, python_operator in UNARY_OPERATORS.items():
        fn = getattr(functional, name)
        for operand in operands[name]:
            expected = python_operator(operand)
            assert_identical(fn(operand, output_quantizer=QuantizerStub()), expected, name)
            if isinstance(operand, torch.Tensor):
                assert_identical(fn(operand), getattr(torch, name)(operand), name + " vs torch")


def test_add_and_sub_with_alpha_match_torch():
    torch.manual_seed(13)
    x, y = torch.randn(5), torch.randn(5)
    i, j = torch.randint(-9, 9, (5,)), torch.randint(-9, 9, (5,))
    for alpha in (2, -1, 0.5, 1.0):
        assert_identical(functional.add(x, y, alpha), torch.add(x, y, alpha=alpha))
        assert_identical(functional.sub(x, y, alpha=alpha), torch.sub(x, y, alpha=alpha))
        assert_identical(functional.add(x, 2.0, alpha=alpha), torch.add(x, 2.0, alpha=alpha))
    assert_identical(functional.add(i, j, alpha=3), torch.add(i, j, alpha=3))
    # torch rejects a float alpha for integer tensors; so must the functional op.
    for fn in (functional.add, functional.sub):
        try:
            fn(i, j, alpha=1.0)
        except RuntimeError:
            pass
        else:
            raise AssertionError("%s accepted a float alpha for integer tensors" % fn.__name__)


# --- generated code -------------------------------------------------------------------------


def _models():
    import ffq_float_models
    import ffq_quantized_models

    return ffq_float_models, ffq_quantized_models


def _tinynet_input():
    torch.manual_seed(21)
    return torch.randn(3, 4, 8, 8)


def test_generated_module_is_bitwise_identical_to_its_float_original():
    float_models, quantized_models = _models()
    torch.manual_seed(0)
    model = float_models.TinyNet()
    x = _tinynet_input()
    expected = model(x)

    quantized = quantize_model(copy.deepcopy(model))
    assert type(quantized) is quantized_models.QuantizedTinyNet
    assert all(type(block) is quantized_models.QuantizedConvBlock for block in quantized.blocks)
    assert type(quantized.head) is quantized_models.QuantizedMyLinear
    assert_identical(quantized(x), expected)
    assert sorted(quantized.state_dict()) == sorted(model.state_dict())


def test_generated_module_built_directly():
    float_models, quantized_models = _models()
    x = _tinynet_input()
    torch.manual_seed(0)
    expected = float_models.TinyNet()(x)
    torch.manual_seed(0)
    model = quantized_models.QuantizedTinyNet()
    assert isinstance(model.quantizer_add_2, QuantizerStub)
    assert type(model.blocks[0]) is float_models.ConvBlock  # submodules stay float until swapped
    assert_identical(model(x), expected)
    quantize_model(model, skip_quantized_modules=True)  # the float submodules; the root is quantized already
    assert type(model.blocks[0]) is quantized_models.QuantizedConvBlock
    assert_identical(model(x), expected)


def test_generated_module_runs_with_real_quantizers_in_place_of_stubs():
    float_models, quantized_models = _models()
    torch.manual_seed(0)
    model = quantize_model(float_models.MyLinear(4, 3))
    x = torch.randn(2, 4)
    expected = model(x)
    model.quantizer_linear = Doubling()
    assert_identical(model(x), expected * 2)
    model.quantizer_input = RecordingQuantizer()
    model(x)
    assert model.quantizer_input.seen == [x]


# --- autoquantize ---------------------------------------------------------------------------

FAKE_FFQ = textwrap.dedent(
    """\
    #!{python}
    # Stand-in for ffq: prints its arguments as JSON (to --output when given), or fails.
    import json, os, sys
    args = sys.argv[1:]
    if os.environ.get("FAKE_FFQ_FAIL"):
        sys.stderr.write("model.py:1:1: error: something is wrong [fake]\\n")
        sys.exit(1)
    text = json.dumps(args)
    if "--output" in args:
        with open(args[args.index("--output") + 1], "w") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    """
)


class _Environment:
    """Sets environment variables for the duration of a with block."""

    def __init__(self, **values):
        self.values = values

    def __enter__(self):
        self.saved = {name: os.environ.get(name) for name in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_autoquantize_command_line():
    from fastforward.autoquant import OperatorTable, PatternRule

    float_models, _ = _models()
    model = float_models.MyLinear(2, 2)
    source = os.path.abspath(float_models.__file__)
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "fake-ffq")
        with open(fake, "w") as script:
            script.write(FAKE_FFQ.format(python=sys.executable))
        os.chmod(fake, 0o755)
        with _Environment(FFQ_BINARY=fake):
            # --python: ffq searches the site-packages of the interpreter the model runs in
            base = ["autoquant", source, "--module", "ffq_float_models", "--class", "MyLinear",
                    "--python", sys.executable]
            assert json.loads(fastforward.autoquantize(model)) == base
            assert json.loads(fastforward.autoquantize(float_models.MyLinear)) == base

            out = os.path.join(tmp, "quantized.py")
            args = json.loads(
                fastforward.autoquantize(
                    model,
                    output_path=out,
                    use_type_inference=False,
                    force_overwrite=True,
                    operator_table=["extra.yaml", OperatorTable.from_yaml("only.yaml")],
                    replacement_patterns=[PatternRule.from_str("torch.{f}({a})", "mine.{f}({a})")],
                )
            )
            assert args == base[:6] + [
                "--output",
                out,
                "--force",
                "--python",
                sys.executable,
                "--no-type-inference",
                "--optable",
                "extra.yaml",
                "--no-default-optable",
                "--optable",
                "only.yaml",
                "--replace",
                "torch.{f}({a})=>mine.{f}({a})",
            ]
            assert (
                json.loads(
                    fastforward.autoquantize(model, operator_table=OperatorTable.from_yaml())
                )
                == base
            )
            # stub_tags: None (the default) leaves it to ffq and [tool.ffq]; a bool is a flag
            tagged = json.loads(fastforward.autoquantize(model, stub_tags=True))
            assert tagged == base + ["--stub-tags"], tagged
            plain = json.loads(fastforward.autoquantize(model, stub_tags=False))
            assert plain == base + ["--no-stub-tags"], plain
            assert json.loads(fastforward.autoquantize(model, stub_tags=None)) == base

            # a rule limited to a scope (which --replace cannot say) goes, with the others in
            # order, into the patterns of an operator table without operators
            args = json.loads(
                fastforward.autoquantize(
                    model,
                    replacement_patterns=[
                        PatternRule.from_str("a", "b"),
                        PatternRule.from_str("c", "d", on="m.C"),
                    ],
                )
            )
            assert args[: len(base)] == base and args[len(base)] == "--optable", args
            assert args[len(base) + 1].endswith("ffq-pattern-rules.yaml") and len(args) == len(base) + 2

            with _Environment(FAKE_FFQ_FAIL="1"):
                try:
                    fastforward.autoquantize(model)
                except fastforward._autoquantize.FfqError as error:
                    assert "something is wrong [fake]" in str(error)
                    assert "exit status 1" in str(error)
                else:
                    raise AssertionError("a failing ffq must raise FfqError")


def _real_ffq():
    from fastforward._autoquantize import FfqError, find_ffq

    try:
        binary = find_ffq()
    except FfqError:
        skip("no ffq executable (build it, or set FFQ_BINARY)")
    if os.path.basename(binary).startswith("fake"):
        skip("FFQ_BINARY is a stand-in")
    return binary


GUARDED_MODEL = textwrap.dedent(
    """\
    import torch
    from torch import nn

    USE_TORCH_NORM = {use_torch_norm}
    if USE_TORCH_NORM:
        LayerNorm = nn.LayerNorm
    else:

        class LayerNorm(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.dim = dim
                self.weight = nn.Parameter(torch.ones(dim))

            def forward(self, x):
                return torch.nn.functional.layer_norm(x, (self.dim,), self.weight) * 2

    if USE_TORCH_NORM:  # one class per branch, of one name (transformers' xLSTM)

        class Scale(nn.Module):
            def forward(self, x):
                return x + 1

    else:

        class Scale(nn.Module):
            @torch.no_grad()
            def forward(self, x):
                return x * 2

    try:
        from not_an_installed_kernel_package import fused

        class Fused(nn.Module):
            def forward(self, x):
                return fused(x) + 1

    except ImportError:
        pass


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = LayerNorm(8)
            self.lin = nn.Linear(8, 8)
            self.scale = Scale()

        def forward(self, x):
            return self.scale(self.lin(self.norm(x))) + x
    """
)


def test_classes_defined_under_a_condition():
    # diffusers: `if torch >= 2.1: LayerNorm = nn.LayerNorm` / `else: class LayerNorm(...)`.
    # The generated QuantizedLayerNorm took torch's LayerNorm as its float base and replaced
    # fastforward's own in the module map: every nn.LayerNorm of every model then ran its
    # forward ('no attribute dim'). A class under a failed `try` made the output fail to
    # import. Now each such class is made only when the name is the class ffq converted.
    _real_ffq()
    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)
    for use_torch_norm in (True, False):
        name = "ffq_guarded_%s" % ("alias" if use_torch_norm else "class")
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, name + ".py"), "w") as f:
                f.write(GUARDED_MODEL.format(use_torch_norm=use_torch_norm))
            sys.path.insert(0, tmp)
            try:
                source = __import__(name)
                generated = fastforward.autoquantize(source.Block(), auto_import=True)
                assert not hasattr(generated, "QuantizedFused")  # its name is unbound
                assert hasattr(generated, "QuantizedLayerNorm") is not use_torch_norm
                torch.manual_seed(0)
                model = source.Block()
                x = torch.randn(2, 8)
                expected = model(x)
                with fastforward.strict_quantization(False):
                    quantize_model(model)
                    got = model(x)
                assert type(model) is generated.QuantizedBlock
                builtin = fastforward.nn.QuantizedLayerNorm
                assert type(model.norm) is (builtin if use_torch_norm else generated.QuantizedLayerNorm)
                # both Scale classes are converted; the one the name is bound to is made
                made = [name for name in vars(generated) if name.startswith("QuantizedScale")]
                assert len(made) == 1, made  # (of QuantizedScale_0 and QuantizedScale_1)
                assert type(model.scale) is getattr(generated, made[0])
                assert source.Scale in type(model.scale).__mro__
                assert_identical(got, expected)
                # and torch's LayerNorm anywhere else still maps to fastforward's own
                assert type(quantize_model(torch.nn.LayerNorm(4))) is builtin
            finally:
                sys.path.remove(tmp)
                for mod in list(sys.modules):
                    if name in mod:
                        del sys.modules[mod]
                quantized_module_impl._QUANTIZED_CLASSES.clear()
                quantized_module_impl._QUANTIZED_CLASSES.update(registered)


def test_auto_import_leaves_no_temporary_files():
    # autoquantize(auto_import=True) without output_path writes the module into a temporary
    # directory: it must exist while the interpreter runs (inspect reads it) and be gone after
    # (it was kept: one directory per call, hundreds in /tmp after a test run); when ffq fails
    # nothing is imported and the directory goes at once.
    _real_ffq()
    import subprocess

    child = textwrap.dedent(
        """\
        import inspect, os, sys, tempfile
        import torch
        import fastforward
        from fastforward._autoquantize import FfqError
        sys.path.insert(0, sys.argv[1])
        import ffq_tmp_model
        module = fastforward.autoquantize(ffq_tmp_model.Net(), auto_import=True)
        assert "QuantizerStub" in inspect.getsource(module.QuantizedNet)
        assert os.path.isfile(module.__file__)
        assert os.path.dirname(os.path.dirname(module.__file__)) == tempfile.gettempdir()
        try:
            fastforward.autoquantize(ffq_tmp_model.Net(), auto_import=True, operator_table="/nonexistent.yaml")
        except (FfqError, OSError, ValueError):
            pass
        else:
            raise AssertionError("a missing table was accepted")
        print(sorted(os.listdir(tempfile.gettempdir())))
        """
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch, source = os.path.join(tmp, "tmp"), os.path.join(tmp, "src")
        os.makedirs(scratch)
        os.makedirs(source)
        with open(os.path.join(source, "ffq_tmp_model.py"), "w") as f:
            f.write("import torch\n\n\nclass Net(torch.nn.Module):\n"
                    "    def __init__(self):\n        super().__init__()\n"
                    "        self.fc = torch.nn.Linear(4, 4)\n\n"
                    "    def forward(self, x):\n        return torch.relu(self.fc(x))\n")
        package = os.path.dirname(os.path.dirname(os.path.abspath(fastforward.__file__)))
        env = dict(os.environ, TMPDIR=scratch,
                   PYTHONPATH=os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")])))
        done = subprocess.run([sys.executable, "-c", child, source], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        during = done.stdout.strip().splitlines()[-1]
        assert during.count("ffq-autoquant-") == 1, during  # the imported one; the failed call's is gone
        assert os.listdir(scratch) == [], os.listdir(scratch)


def test_autoquantize_with_ffq_end_to_end():
    _real_ffq()
    float_models, _ = _models()
    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ffq_generated_tinynet.py")
        text = fastforward.autoquantize(float_models.TinyNet(), output_path=out)
        with open(out, encoding="utf-8") as generated:
            assert generated.read() == text
        assert "class QuantizedTinyNet(fastforward.nn.QuantizedModule, TinyNet):" in text
        # by default FastForward's plain stubs; stub_tags=True tags them, otherwise the same code
        assert "QuantizerStub()" in text and "_quantizer=True" not in text
        assert fastforward.autoquantize(float_models.TinyNet(), stub_tags=False) == text
        tagged = fastforward.autoquantize(float_models.TinyNet(), stub_tags=True)
        assert "weight_quantizer=True" in tagged and "QuantizerStub()" not in tagged
        assert tagged.count("QuantizerStub(") == text.count("QuantizerStub(")

        def untagged(code):
            return "".join(re.sub(r"QuantizerStub\([^)]*\)", "QuantizerStub()", code).split())

        assert untagged(tagged) == untagged(text)
        try:
            fastforward.autoquantize(float_models.TinyNet(), output_path=out)  # no --force
        except fastforward._autoquantize.FfqError:
            pass
        else:
            raise AssertionError("ffq must not overwrite without force_overwrite")
        sys.path.insert(0, tmp)
        try:
            import ffq_generated_tinynet as generated

            torch.manual_seed(0)
            model = float_models.TinyNet()
            x = _tinynet_input()
            expected = model(x)
            quantize_model(model)
            assert type(model) is generated.QuantizedTinyNet
            assert_identical(model(x), expected)
        finally:
            sys.path.remove(tmp)
            sys.modules.pop("ffq_generated_tinynet", None)
            quantized_module_impl._QUANTIZED_CLASSES.clear()
            quantized_module_impl._QUANTIZED_CLASSES.update(registered)


def test_autoquantize_output_path_package_directory():
    # an output_path not ending in .py is a package directory holding the module as __init__.py
    _real_ffq()
    float_models, _ = _models()
    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "deep", "ffq_generated_pkg")
        try:
            module = fastforward.autoquantize(float_models.TinyNet(), output_path=out, auto_import=True)
            with open(os.path.join(out, "__init__.py"), encoding="utf-8") as generated:
                assert "class QuantizedTinyNet(" in generated.read()
            assert module.QuantizedTinyNet.__name__ == "QuantizedTinyNet"
        finally:
            quantized_module_impl._QUANTIZED_CLASSES.clear()
            quantized_module_impl._QUANTIZED_CLASSES.update(registered)


SCOPED_RULE_MODEL = textwrap.dedent(
    """
    import torch


    class First(torch.nn.Module):
        def forward(self, x):
            return torch.sigmoid(x)


    class Second(torch.nn.Module):
        def forward(self, x):
            return torch.sigmoid(x)
    """
)


def test_autoquantize_scoped_pattern_rule():
    # PatternRule(on=...) limits a rule to a dotted scope and what is nested in it (spec §8)
    _real_ffq()
    from fastforward.autoquant import PatternRule

    with _temporary_modules(ffq_scoped_rule=SCOPED_RULE_MODEL):
        import ffq_scoped_rule

        rules = [
            PatternRule.from_str("torch.sigmoid({a})", "torch.relu({a})", on="ffq_scoped_rule.Second"),
            PatternRule.from_str("torch.relu({a})", "torch.tanh({a})", on="ffq_scoped_rule.First"),
        ]
        text = fastforward.autoquantize(ffq_scoped_rule.First, replacement_patterns=rules)
        first = text[text.index("class QuantizedFirst") :]
        assert "fastforward.nn.functional.sigmoid(" in first and "tanh" not in first, text
        text = fastforward.autoquantize(ffq_scoped_rule.Second, replacement_patterns=rules)
        second = text[text.index("class QuantizedSecond") :]
        assert "fastforward.nn.functional.relu(" in second and "sigmoid" not in second, text


@contextlib.contextmanager
def _temporary_modules(**sources):
    """Each source written as <name>.py into a temporary directory on sys.path; afterwards the
    directory leaves the path, the modules are forgotten and the quantized-class registry is
    as before (generated code registers its classes)."""
    registered = dict(quantized_module_impl._QUANTIZED_CLASSES)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in sources.items():
            with open(os.path.join(tmp, name + ".py"), "w") as f:
                f.write(text)
        sys.path.insert(0, tmp)
        try:
            yield tmp
        finally:
            sys.path.remove(tmp)
            for name in sources:
                sys.modules.pop(name, None)
            quantized_module_impl._QUANTIZED_CLASSES.clear()
            quantized_module_impl._QUANTIZED_CLASSES.update(registered)


FACTORY_COMPONENTS = textwrap.dedent(
    """\
    import torch


    class Block(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = torch.nn.Linear(n, n)

        def forward(self, x):
            return torch.relu(self.fc(x)) + x


    def make_encoder(n, depth):
        return torch.nn.Sequential(*[Block(n) for _ in range(depth)])
    """
)

FACTORY_MODEL = textwrap.dedent(
    """\
    import torch


    class Net(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, x):
            return self.encoder(x) * 2
    """
)


def test_autoquantize_live_model_converts_factory_built_blocks():
    # Net receives its blocks from a factory in another file: ffq on Net's file alone cannot
    # see Block; autoquantize(model) has the live model and converts every class it holds.
    _real_ffq()
    with _temporary_modules(ffq_fac_components=FACTORY_COMPONENTS, ffq_fac_model=FACTORY_MODEL):
        import ffq_fac_components
        import ffq_fac_model

        torch.manual_seed(0)
        model = ffq_fac_model.Net(ffq_fac_components.make_encoder(4, 2))
        text = fastforward.autoquantize(model)
        assert "class QuantizedNet(" in text and "class QuantizedBlock(" in text
        namespace = {}
        exec(compile(text, "<generated>", "exec"), namespace)
        x = torch.randn(3, 4)
        expected = model(x)
        quantize_model(model)
        assert type(model).__name__ == "QuantizedNet"
        assert [type(m).__name__ for m in model.encoder] == ["QuantizedBlock", "QuantizedBlock"]
        assert_identical(model(x), expected)


JOIN_PARTS = textwrap.dedent(
    """\
    import torch


    def helper(x):
        return torch.relu(x) * 2


    class Part(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)

        def forward(self, x):
            return helper(self.fc(x)) + x


    def make_part():
        return Part()
    """
)

JOIN_MODEL = textwrap.dedent(
    """\
    import torch

    from ffq_join_parts import Part


    def helper(x):
        return torch.sigmoid(x) - 1


    class Whole(torch.nn.Module):
        def __init__(self, built):
            super().__init__()
            self.built = built  # from a factory: ffq cannot see its class in this file
            self.direct = Part()  # ffq follows this one into the other file

        def forward(self, x):
            return helper(self.built(x)) + self.direct(x)


    class Solo(torch.nn.Module):
        def __init__(self, built):
            super().__init__()
            self.built = built

        def forward(self, x):
            return helper(self.built(x))
    """
)


def test_quantizers_take_absent_tensors_ints_and_floats_as_generated_code_passes_them():
    # ffq quantizes values whose type it cannot know: an Optional[Tensor] that is None, an
    # int used as a size, a Python float scale.
    from fastforward.nn import LinearQuantizer
    from fastforward.range_setting import running_minmax

    q = LinearQuantizer(8, symmetric=False)
    with fastforward.estimate_ranges(q, running_minmax):
        assert q(None) is None and q(4) == 4 and q(True) is True
        q(torch.tensor([-1.0, 2.0]))
        half = q(0.5)  # a float takes part in calibration (as a 0-d tensor) and stays a float
    assert type(half) is float and abs(half - 0.5) < 0.01
    lo, hi = q.quantization_range
    assert float(lo) == -1.0 and float(hi) == 2.0
    out = q(0.5)  # the Python float of its quantized value
    assert type(out) is float and out == float(q(torch.tensor(0.5)).dequantize())
    assert abs(out - 0.5) <= float(q.scale) / 2 + 1e-7 and out != 0.5
    assert q(None) is None and q(7) == 7 and type(q(7)) is int
    # position ids, masks, a tuple of hidden states: passed on as they are, never calibrated on
    ids, mask, hidden = torch.arange(300), torch.ones(3, dtype=torch.bool), (torch.randn(2),)
    fresh = LinearQuantizer(8)
    with fastforward.estimate_ranges(fresh, running_minmax):
        assert fresh(ids) is ids and fresh(mask) is mask and fresh(hidden) is hidden
    assert fresh.has_uninitialized_params
    qt = q(torch.tensor([0.25, 1.0]))
    assert isinstance(q(qt), QuantizedTensor)  # a QuantizedTensor (int8 raw data or not) is requantized


IDENTITY_BRANCH = textwrap.dedent(
    """\
    import torch


    class Cross(torch.nn.Module):
        # Like torch's attention: one path when the same tensor is passed twice.
        def __init__(self):
            super().__init__()
            self.same = torch.nn.Linear(4, 4)
            self.pair = torch.nn.Linear(4, 4)

        def forward(self, x, y=None):
            y = x if y is None else y
            if x is y:
                return self.same(x) * 2
            return self.pair(x) * y
    """
)


def test_calibration_takes_the_branches_the_quantized_model_takes():
    # Quantized, `x` and `y` come out of two quantizers as two objects, so `x is y` is false;
    # calibration, where activations pass on unquantized, must see the same (else the
    # `pair` branch's quantizers stay uncalibrated and the model fails after calibration).
    _real_ffq()
    with _temporary_modules(ffq_identity_branch=IDENTITY_BRANCH):
        import ffq_identity_branch

        torch.manual_seed(0)
        model = ffq_identity_branch.Cross()
        x = torch.randn(3, 4)
        float_out = model(x)
        fastforward.quantize(model, weights=8, activations=8)
        with torch.no_grad(), fastforward.calibration(model):
            model(x)
        with torch.no_grad():
            out = model(x)
        out = out.dequantize() if isinstance(out, QuantizedTensor) else out
        pair = [q for _, q in fastforward.find_quantizers(model, "pair/**").named_modules() if not q.is_stub()]
        assert len(pair) == 3 and not any(q.has_uninitialized_params for q in pair)
        assert (out - float_out).abs().max() > 0  # quantized, and not the `same` branch's x * 2 path
        with torch.no_grad(), fastforward.disable_quantization(model):
            assert torch.equal(value_of(model(x)), float_out)  # off: the float model, `same` branch
        # an estimator that leaves activations unquantized hands on new objects too
        from fastforward.range_setting import RunningMinMaxRangeEstimator

        torch.manual_seed(0)
        fresh = ffq_identity_branch.Cross()
        fastforward.quantize(fresh, weights=8, activations=8)
        with torch.no_grad(), fastforward.calibration(fresh, RunningMinMaxRangeEstimator(disable_quantization=True)):
            fresh(x)
        pair = [q for _, q in fastforward.find_quantizers(fresh, "pair/**").named_modules() if not q.is_stub()]
        assert len(pair) == 3 and not any(q.has_uninitialized_params for q in pair)


FLOAT_OR_TENSOR = textwrap.dedent(
    """\
    import torch


    def apply_scale(t, scale=1):
        scale = scale[..., : t.shape[-1]] if torch.is_tensor(scale) else scale
        return t * scale


    class Positions(torch.nn.Module):
        # Like x-transformers' rotary embedding: a tensor scale, or the number 1.0 without one.
        def __init__(self, dim, use_scale=False):
            super().__init__()
            self.register_buffer("scale", torch.linspace(0.5, 1.0, dim) if use_scale else None)

        def forward(self, n):
            freqs = torch.arange(n).float()
            if self.scale is None:
                return freqs, 1.0
            return freqs, self.scale


    class Block(torch.nn.Module):
        def __init__(self, dim=4, use_scale=False):
            super().__init__()
            self.proj = torch.nn.Linear(dim, dim)
            self.pos = Positions(dim, use_scale)

        def forward(self, x):
            freqs, scale = self.pos(x.shape[-1])
            inverse = scale ** -1.0 if scale is not None else 1.0
            return apply_scale(self.proj(x) + freqs, inverse)
    """
)


def test_a_quantized_python_float_stays_a_float_for_code_that_tests_its_type():
    # ffq quantizes `scale` (a tensor, or the number 1.0) where it is unpacked; a 0-d tensor
    # made of the number took the helper's torch.is_tensor branch, which only a tensor of
    # positions can take: calibration failed ("too many indices for tensor of dimension 0")
    from fastforward import _integer

    _real_ffq()
    with _temporary_modules(ffq_float_or_tensor=FLOAT_OR_TENSOR):
        import ffq_float_or_tensor

        for use_scale in (False, True):
            torch.manual_seed(0)
            model = ffq_float_or_tensor.Block(use_scale=use_scale)
            x = torch.randn(3, 4)
            float_out = model(x)
            fastforward.quantize(model, weights=8, activations=8)
            with torch.no_grad(), fastforward.calibration(model):
                model(x)
            with torch.no_grad(), _integer.integer_execution(False):
                simulated = value_of(model(x))
            with torch.inference_mode():
                integer = value_of(model(x))
            assert torch.equal(simulated, integer)
            assert 0 < (simulated - float_out).abs().max() < 0.1
            scale = dict(model.named_modules())["quantizer_scale"]  # the number took part in calibration
            assert not scale.is_stub() and not scale.has_uninitialized_params


GENERATED_LINES = textwrap.dedent(
    """\
    import torch


    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.proj(x) * x.shape[-1] + x[..., 9]
    """
)


def test_generated_code_shows_its_lines_in_tracebacks_and_getsource():
    # ff.quantize runs generated source that exists in no file: its lines are registered
    # with linecache, so a traceback through a Quantized<Name>.forward shows the failing
    # line and inspect.getsource reads the class (not "could not get source code")
    import inspect
    import traceback

    _real_ffq()
    with _temporary_modules(ffq_generated_lines=GENERATED_LINES):
        import ffq_generated_lines

        model = ffq_generated_lines.Scaled()
        fastforward.quantize(model, weights=8, activations=8)
        source = inspect.getsource(type(model).forward)
        assert "def forward(self, x)" in source and "fastforward.nn.functional" in source, source
        try:
            with torch.no_grad(), fastforward.strict_quantization(False):
                model(torch.randn(2, 4))  # x[..., 9]: out of range
        except IndexError as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<ffq autoquant")]
            assert frames and "9" in (frames[-1].line or ""), [(f.filename, f.lineno, f.line) for f in frames]
        else:
            raise AssertionError("x[..., 9] on 4 columns did not raise")


TRAMPOLINE = textwrap.dedent(
    """\
    import torch


    def project(x, w, packed: bool = False):
        # torch's functionals open with this guard (F.multi_head_attention_forward, ...)
        if torch.overrides.has_torch_function((x, w)):
            return torch.overrides.handle_torch_function(project, (x, w), x, w, packed)
        if packed:
            return torch.matmul(x, w)
        first, second = w.chunk(2, 1)
        return torch.matmul(x, first) * 2 + torch.matmul(x, second)


    class Proj(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(4, 8) * 0.3)

        def forward(self, x):
            return project(torch.relu(x), self.w)
    """
)


def test_a_quantized_helper_behind_torchs_dispatch_guard_computes_on_real_values():
    # The quantized helper's inputs arrive quantized, so torch's guard hands the call to
    # QuantizedTensor.__torch_function__, which runs the helper again on the real values.
    # That run's own QuantizedTensors (`w` chunked) must act as QuantizedTensors: with torch
    # functions switched off, `w.chunk` split the raw integers (SQNR 10 dB instead of 40).
    import math

    _real_ffq()
    with _temporary_modules(ffq_trampoline=TRAMPOLINE):
        import ffq_trampoline

        torch.manual_seed(0)
        model = ffq_trampoline.Proj()
        x = torch.randn(5, 4)
        with torch.no_grad():
            expected = model(x)
        fastforward.quantize(model, weights=8, activations=8)
        with torch.no_grad(), fastforward.calibration(model):
            model(x)
        with torch.no_grad():
            got = value_of(model(x))
        noise = float(((got - expected) ** 2).sum())
        assert 10 * math.log10(float((expected ** 2).sum()) / noise) > 30
        with fastforward.strict_quantization(True), torch.no_grad():
            assert torch.equal(value_of(model(x)), got)  # the generated helper quantizes what it gets


ATTENTION = textwrap.dedent(
    """\
    import torch


    class SelfAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(16, 2, batch_first=True)
            self.norm = torch.nn.LayerNorm(16)

        def forward(self, x):
            h = self.norm(x)
            a, _ = self.attn(h, h, h, need_weights=False)
            return x + a
    """
)


def test_torchs_multihead_attention_quantizes_and_calibrates_end_to_end():
    # torch's own attention, converted by autoquant with its helpers (F.multi_head_attention_
    # forward behind torch's dispatch guard, an Optional mask that is None, head counts that
    # are ints, `query is key` checks), with real quantizers: calibrated under no_grad it used
    # to take the native fast path (plain tensors) and leave the quantized path's quantizers
    # uncalibrated; run, its helper computed on raw integers.
    import math

    _real_ffq()
    with _temporary_modules(ffq_attention=ATTENTION):
        import ffq_attention

        torch.manual_seed(0)
        model = ffq_attention.SelfAttention().eval()
        x = torch.randn(2, 5, 16)
        with torch.no_grad():
            expected = model(x)
        fastforward.quantize(model, weights=8, activations=8)
        with torch.no_grad(), fastforward.calibration(model):
            model(x)
        with torch.no_grad():
            got = value_of(model(x))
        noise = float(((got - expected) ** 2).sum())
        assert 10 * math.log10(float((expected ** 2).sum()) / noise) > 25


def value_of(t):
    return t.dequantize() if isinstance(t, QuantizedTensor) else t


def test_autoquantize_joined_files_neither_repeat_nor_replace_definitions():
    # Both files define `helper`; the runs on the two files both generate `quantized_helper`.
    # Joined naively, the second file's helper replaced the first's (Whole then computed
    # relu(x) * 2 where it should compute sigmoid(x) - 1), and QuantizedPart was defined twice.
    _real_ffq()
    with _temporary_modules(ffq_join_parts=JOIN_PARTS, ffq_join_model=JOIN_MODEL):
        import ffq_join_model
        import ffq_join_parts

        # Whole: Part is also converted by the run on Whole's file (it follows `direct`);
        # Solo: only the run on Part's own file converts it, with its own `helper`
        for make in (ffq_join_model.Whole, ffq_join_model.Solo):
            torch.manual_seed(0)
            model = make(ffq_join_parts.make_part())
            text = fastforward.autoquantize(model)
            assert text.count("class QuantizedPart(") == 1, text
            assert text.count("class Quantized%s(" % make.__name__) == 1, text
            names = [line.split("(")[0] for line in text.splitlines() if line.startswith("def ")]
            assert len(names) == len(set(names)), names  # no function defined twice
            namespace = {}
            exec(compile(text, "<generated>", "exec"), namespace)
            x = torch.randn(3, 4)
            expected = model(x)
            quantize_model(model)
            assert type(model).__name__ == "Quantized" + make.__name__
            assert type(model.built).__name__ == "QuantizedPart"
            assert_identical(model(x), expected)  # stubs only: the float computation


# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals()))

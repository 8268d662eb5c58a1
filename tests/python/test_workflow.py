"""Tests of the quantization workflow (issue 14): mpath queries, find_quantizers and
QuantizationConfig, the built-in quantized layers and the known-module list, switches,
freezing, saving and loading, the Q-format quantizer and the mode switch.

Run with any Python that has torch (1.13 or 2.x)::

    python3 tests/python/test_workflow.py
    /usr/bin/python3 tests/python/test_workflow.py

Ends with "N passed, M failed[, K skipped]"; exits nonzero when a test failed. The trained
digits model (accuracies, QAT, Quanto and TorchQuant flows) is in digits_workflow.py.
"""

import copy
import os
import re
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward import _integer, mpath  # noqa: E402
from fastforward.exceptions import QuantizationError  # noqa: E402
from fastforward.nn import LinearQuantizer, QFormatQuantizer, QuantizedModule, QuantizerStub  # noqa: E402
from fastforward.nn import functional  # noqa: E402
from fastforward.nn.quantized_layers import BUILTIN_LAYERS  # noqa: E402
from fastforward.nn.quantized_module import infer_tags, named_quantizers  # noqa: E402
from fastforward.quantization import serialization  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from fastforward.range_setting import running_minmax  # noqa: E402
from plain_runner import isolation, run, skip  # noqa: E402


def expect(exc_type, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("%s not raised" % exc_type.__name__)


def value(t):
    return t.dequantize() if isinstance(t, QuantizedTensor) else t


def small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.SiLU()),
        torch.nn.Linear(8, 3, bias=False),
    )


def _ffq_binary():
    binary = os.environ.get("FFQ_BINARY") or os.path.join(REPO, "build", "src", "ffq")
    if not os.path.isfile(binary):
        skip("no ffq executable (build it, or set FFQ_BINARY)")
    return binary


def _generate(directory, name, source, *ffq_args):
    """Write ``source`` as ``<name>.py`` in ``directory``, run ffq on it (with ``ffq_args``),
    import the result."""
    import importlib
    import subprocess

    with open(os.path.join(directory, name + ".py"), "w") as f:
        f.write(source)
    out = os.path.join(directory, "quantized_" + name + ".py")
    done = subprocess.run([_ffq_binary(), "autoquant", name + ".py", "-q", "-o", out] + list(ffq_args), cwd=directory,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert done.returncode == 0, done.stderr
    with open(out) as f:
        text = f.read()
    sys.path.insert(0, directory)
    try:
        return importlib.import_module(name), importlib.import_module("quantized_" + name), text
    finally:
        sys.path.remove(directory)


def w8a8(model):
    cfg = ff.QuantizationConfig()
    cfg.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8, granularity=ff.PerChannel(0))
    cfg.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=8, symmetric=False)
    cfg.initialize(model)
    return model


def calibrated(model=None, x=None):
    model = w8a8(ff.quantize_model(model if model is not None else small_model(), skip_quantized_modules=True))
    x = x if x is not None else torch.randn(16, 6)
    with ff.estimate_ranges(model, running_minmax):
        model(x)
    return model


# --- mpath ------------------------------------------------------------------------------------


def test_mpath_names_wildcards_and_extensions():
    m = small_model()
    names = lambda q: sorted(n for n, _ in mpath.search(q, m).named_modules())  # noqa: E731
    assert names("0") == ["0"]
    assert names("*") == ["0", "1", "2", "3"]
    assert names("**") == ["0", "1", "2", "2.0", "2.1", "3"]
    assert names("2/*") == ["2.0", "2.1"]
    assert names("**/[cls:torch.nn.Linear]") == ["0", "2.0", "3"]
    assert names("[re:0|2]") == ["0", "2"]
    assert names("[re:[02\\]]") == ["0", "2"]  # \] stands for ]
    assert names("{0, 2/1}") == ["0", "2.1"]
    assert names("~0") == ["1", "2", "3"]
    assert names("/2/0/") == ["2.0"]
    assert names(" 2 / 0 ") == ["2.0"]
    assert names("nothing") == []
    # [cls:...] resolves in the caller's names
    Lin = torch.nn.Linear  # noqa: N806, F841 - used by name inside the query
    assert sorted(n for n, _ in mpath.search("**/[cls:Lin]", m).named_modules()) == ["0", "2.0", "3"]
    sel = mpath.query("2") / "0"
    assert str(sel) == "2/0" and [n for n, _ in mpath.search(sel, m).named_modules()] == ["2.0"]
    al = mpath.aliases(lin="**/[cls:torch.nn.Linear]")
    assert sorted(n for n, _ in mpath.search("&lin", m, aliases=al).named_modules()) == ["0", "2.0", "3"]


def test_mpath_syntax_errors_report_the_position():
    m = small_model()
    e = expect(mpath.MPathParseError, mpath.search, "2/a.b", m)
    assert e.position == 3 and "position 3" in str(e), str(e)
    e = expect(mpath.MPathParseError, mpath.search, "0/[nope:x]", m)
    assert e.position == 2 and "nope" in str(e)
    e = expect(mpath.MPathParseError, mpath.search, "{0, 1", m)
    assert "unclosed" in str(e)
    e = expect(mpath.MPathParseError, mpath.search, "**/[cls:NoSuchClass]", m)
    assert "NoSuchClass" in str(e) and e.position == 3
    expect(mpath.MPathParseError, mpath.search, "0//1", m)
    expect(mpath.MPathParseError, mpath.search, "", m)


def test_mpath_collection_set_operations():
    m = small_model()
    a = mpath.search("**/[cls:torch.nn.Linear]", m)
    b = mpath.search("2/**", m)
    assert sorted(n for n, _ in (a & b).named_modules()) == ["2.0"]
    assert sorted(n for n, _ in (a - b).named_modules()) == ["0", "3"]
    assert len(a | b) == 5
    other = mpath.search("0", small_model())
    expect(ValueError, lambda: a | other)


def test_a_search_is_linear_in_the_modules_it_finds():
    # Each result used to be checked against every earlier one: 20,000 quantizers took 78 s of
    # CPU. Now well under a second; the bound is CPU time (a busy machine does not trip it),
    # generous, and a quadratic search overruns it by far.
    import time

    from fastforward.nn import QuantizerStub

    m = torch.nn.ModuleList(torch.nn.ModuleList([QuantizerStub(), QuantizerStub()]) for _ in range(10000))
    start = time.process_time()
    found = ff.find_quantizers(m, "**")
    both = found | ff.find_quantizers(m, "**/1")
    spent = time.process_time() - start
    assert len(found) == 20000 and len(both) == 20000
    del found[0]
    assert len(found) == 19999 and len(found | both) == 20000
    assert spent < 15, spent


# --- find_quantizers, QuantizerCollection, QuantizationConfig ---------------------------------


def test_find_quantizers_by_tag_selects_exactly_the_weights():
    m = ff.quantize_model(small_model())
    weights = ff.find_quantizers(m, "**/[quantizer:parameter/weight]")
    assert sorted(n for n, _ in weights.named_modules()) == ["0.weight_quantizer", "2.0.weight_quantizer",
                                                           "3.weight_quantizer"]
    params = ff.find_quantizers(m, "**/[quantizer:parameter]")
    assert len(params) == 5  # 3 weights + 2 biases (layer 3 has no bias)
    assert len(ff.find_quantizers(m, "**/[quantizer:weight]")) == 0  # 'weight' alone is no tag
    acts = ff.find_quantizers(m, "**/[quantizer:activation]")
    assert all("input" in n or "output" in n for n, _ in acts.named_modules())
    assert len(acts) == 10
    both = weights | ff.find_quantizers(m, "**/[quantizer:parameter/bias]")
    assert len(both) == 5 and len(list(both)) == 5


def test_summarize_quantizers_groups_by_repr_most_frequent_first():
    import io

    m = calibrated()
    summaries = m.summarize_quantizers()
    assert isinstance(summaries, ff.nn.quantized_module.QuantizerSummaries)
    counts = [g.count for g in summaries]
    assert counts == sorted(counts, reverse=True) and sum(counts) == len(list(named_quantizers(m)))
    weights = [g for g in summaries if "weight_quantizer" in " ".join(g.paths)]
    # the three weights are per-channel with different channel counts: not one group
    assert all(all(p.endswith("weight_quantizer") for p in g.paths) for g in weights), weights
    for g in summaries:
        assert len(set(g.paths)) == len(g.paths) and g.quantizer.startswith("LinearQuantizer")
    stream, lines = io.StringIO(), []
    assert str(ff.nn.quantized_module.summarize_quantizers(m, stream)) == str(summaries)
    m.summarize_quantizers(lines.append)
    assert stream.getvalue() == str(summaries) + "\n" and lines == [str(summaries)]
    assert str(summaries).splitlines()[0] == "%d x %s" % (summaries[0].count, summaries[0].quantizer)
    # numeric path parts collapse: a stack of equal layers is one path per slot
    stack = calibrated(torch.nn.Sequential(*[torch.nn.Linear(6, 6) for _ in range(4)]))
    paths = [p for g in stack.summarize_quantizers() for p in g.paths]
    assert "[].weight_quantizer" in paths and not any(re.search(r"\d", p) for p in paths), paths


def test_initialize_replaces_stubs_keeping_their_tags_and_shapes():
    m = ff.quantize_model(small_model())
    new = ff.find_quantizers(m, "**/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=4)
    q = m[0].weight_quantizer
    assert isinstance(q, LinearQuantizer) and q.num_bits == 4
    assert q.quant_metadata.weight_quantizer and q.quant_metadata.shape == (8, 6)
    assert [r.module for r in new][0] is q
    # the tags still find it
    assert ff.find_quantizers(m, "0/[quantizer:parameter/weight]")[0].module is q
    # already real: the overwrite policy decides
    expect(QuantizationError, ff.find_quantizers(m, "0/weight_quantizer").initialize, LinearQuantizer, num_bits=8)
    ff.find_quantizers(m, "0/weight_quantizer").initialize(LinearQuantizer, overwrite_policy="skip", num_bits=8)
    assert m[0].weight_quantizer is q
    ff.find_quantizers(m, "0/weight_quantizer").initialize(LinearQuantizer, overwrite_policy="overwrite", num_bits=8)
    assert m[0].weight_quantizer.num_bits == 8
    expect(ValueError, ff.find_quantizers(m, "0/weight_quantizer").initialize, LinearQuantizer,
           overwrite_policy="sometimes", num_bits=8)
    # a factory callable gets (name, current)
    seen = []
    ff.find_quantizers(m, "2/0/input_quantizer").initialize(lambda n, cur: seen.append((n, cur)) or LinearQuantizer(8))
    assert seen[0][0] == "2.0.input_quantizer" and isinstance(seen[0][1], QuantizerStub)


def test_a_query_that_matches_nothing_says_so():
    # A warning naming the query, not an error: FastForward initializes nothing silently,
    # and a shared configuration may hold rules that some models have no slot for.
    from fastforward.quantization.quant_init import UnmatchedQueryWarning

    m = ff.quantize_model(small_model())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = ff.find_quantizers(m, "**/[quantizer:parameter/wieght]").initialize(LinearQuantizer, num_bits=8)
    assert len(done) == 0 and [w.category for w in caught] == [UnmatchedQueryWarning]
    assert "wieght" in str(caught[0].message) and "matches no quantizer" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller
    cfg = (ff.QuantizationConfig().add_rule("**/fc9/[quantizer:activation]", LinearQuantizer, num_bits=8)
           .add_rule("0/[quantizer:parameter/weight]", LinearQuantizer, num_bits=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg.initialize(m)
    assert [w.category for w in caught] == [UnmatchedQueryWarning] and "fc9" in str(caught[0].message)
    assert caught[0].filename == __file__
    assert isinstance(m[0].weight_quantizer, LinearQuantizer) and m[0].weight_quantizer.num_bits == 4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg.initialize(m, allow_unmatched=True, overwrite_policy="skip")
    assert caught == []


def test_quantization_config_last_rule_wins_and_is_chainable():
    m = ff.quantize_model(small_model())
    cfg = (ff.QuantizationConfig()
           .add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8)
           .add_rule("3/[quantizer:parameter/weight]", LinearQuantizer, num_bits=4))
    assert "=> LinearQuantizer(num_bits=4)" in repr(cfg)
    cfg.initialize(m)
    assert m[0].weight_quantizer.num_bits == 8 and m[2][0].weight_quantizer.num_bits == 8
    assert m[3].weight_quantizer.num_bits == 4


# --- built-in layers, module map, known modules -----------------------------------------------


def _layers():
    torch.manual_seed(1)
    return [
        (torch.nn.Linear(5, 4), torch.randn(3, 5)),
        (torch.nn.Linear(5, 4, bias=False), torch.randn(3, 5)),
        (torch.nn.Conv1d(3, 4, 3, padding=1), torch.randn(2, 3, 7)),
        (torch.nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.randn(2, 3, 9, 9)),
        (torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), torch.randn(2, 3, 6, 6)),
        (torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), torch.randn(2, 3, 5, 5)),
        (torch.nn.Embedding(10, 4, padding_idx=0), torch.tensor([[1, 2, 0], [9, 3, 3]])),
        (torch.nn.LayerNorm(6), torch.randn(2, 6)),
        (torch.nn.LayerNorm(6, elementwise_affine=False), torch.randn(2, 6)),
        (torch.nn.ReLU(inplace=True), torch.randn(4, 5)),
        (torch.nn.SiLU(), torch.randn(4, 5)),
        (torch.nn.GELU(), torch.randn(4, 5)),
        (torch.nn.Sigmoid(), torch.randn(4, 5)),
        (torch.nn.Softmax(dim=1), torch.randn(4, 5)),
        (torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU()), torch.randn(2, 4)),
    ]


def test_builtin_layers_with_stubs_compute_bitwise_what_torch_computes():
    with ff.strict_quantization(False):
        for layer, x in _layers():
            expected = layer(x.clone())
            q = ff.quantize_model(copy.deepcopy(layer))
            assert type(q) is BUILTIN_LAYERS[type(layer)], type(q)
            got = q(x.clone())
            assert got.dtype == expected.dtype and torch.equal(got, expected), type(layer).__name__
            assert sorted(q.state_dict()) == sorted(layer.state_dict())


def test_conv_transpose_output_size_is_honoured():
    layer = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = torch.randn(1, 3, 5, 5)
    expected = layer(x, output_size=[10, 10])
    q = ff.quantize_model(copy.deepcopy(layer))
    with ff.strict_quantization(False):
        assert torch.equal(q(x, output_size=[10, 10]), expected)


def test_builtin_layer_slots_carry_the_spec_tags():
    lin = ff.quantize_model(torch.nn.Linear(5, 4))
    md = lin.quantizer_metadata
    assert md["input_quantizer"].input_quantizer and md["output_quantizer"].output_quantizer
    assert md["weight_quantizer"].weight_quantizer and md["weight_quantizer"].shape == (4, 5)
    assert md["bias_quantizer"].bias_quantizer and md["bias_quantizer"].shape == (4,)
    nobias = ff.quantize_model(torch.nn.Linear(5, 4, bias=False))
    assert nobias.bias_quantizer is None and "bias_quantizer" in nobias._modules
    emb = ff.quantize_model(torch.nn.Embedding(3, 2))
    assert not hasattr(emb, "input_quantizer") and emb.weight_quantizer.quant_metadata.weight_quantizer
    ln = ff.quantize_model(torch.nn.LayerNorm(4, elementwise_affine=False))
    assert ln.weight_quantizer is None and ln.bias_quantizer is None
    relu = ff.quantize_model(torch.nn.ReLU())
    assert sorted(n for n, _ in relu.named_children()) == ["input_quantizer", "output_quantizer"]


def _known_modules_file():
    """(torch class path, quantized class name) of each entry of optable/known_modules.txt."""
    entries = []
    with open(os.path.join(REPO, "optable", "known_modules.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if fields:
                assert len(fields) == 2 and fields[0].startswith("torch.nn."), line
                entries.append((fields[0], fields[1]))
    return entries


def test_known_modules_one_list_for_ffq_and_the_runtime():
    from fastforward.nn import quantized_layers

    entries = _known_modules_file()
    assert len(set(entries)) == len(entries) > 0
    # The runtime: its built-in quantized classes are exactly the list's, each recorded under
    # the list's torch class ...
    defined = sorted(name for name, obj in vars(quantized_layers).items()
                     if isinstance(obj, type) and issubclass(obj, QuantizedModule) and not name.startswith("_")
                     and obj.__module__ == quantized_layers.__name__)
    assert defined == sorted(q for _, q in entries), (defined, sorted(q for _, q in entries))
    registry = sorted((f.__module__.split(".")[0] + ".nn." + f.__name__, q.__name__) for f, q in BUILTIN_LAYERS.items())
    assert registry == sorted(entries), (registry, sorted(entries))
    mapping = ff.quantized_module_map()
    for float_cls, q_cls in BUILTIN_LAYERS.items():
        assert getattr(torch.nn, float_cls.__name__) is float_cls
        assert issubclass(q_cls, QuantizedModule) and issubclass(q_cls, float_cls)
        assert mapping.get(float_cls) is q_cls, (float_cls, mapping.get(float_cls))
    # ... and a file with one entry less, or one class too many, is an error on reading it
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "known_modules.txt")
        with open(bad, "w") as f:
            f.write("torch.nn.Linear\n")
        expect(ImportError, quantized_layers.read_known_modules, bad)
    # ffq (the list is compiled in): a submodule of a listed class gets no generated class, one
    # of an unlisted class does.
    lines = ["import torch", "", "", "class AllKnown(torch.nn.Module):", "    def __init__(self):",
             "        super().__init__()"]
    classes = [path for path, _ in entries] + ["torch.nn.Tanh"]
    lines += ["        self.m%d = %s()" % (i, path) for i, path in enumerate(classes)]
    lines += ["", "    def forward(self, x):"]
    lines += ["        x = self.m%d(x)" % i for i in range(len(classes))]
    lines += ["        return x + 1", ""]
    with tempfile.TemporaryDirectory() as d:
        _, _, text = _generate(d, "all_known", "\n".join(lines))
    generated = sorted(re.findall(r"^class (\w+)\(", text, re.M))
    assert generated == ["QuantizedAllKnown", "QuantizedTanh"], generated


class _SharedParts(torch.nn.Module):
    default_act = torch.nn.SiLU()  # a class attribute every instance holds (ultralytics' Conv)

    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Linear(8, 8), torch.nn.Linear(8, 8)
        with torch.no_grad():
            self.b.weight.mul_(0.01)  # the second stage's values are ~100x smaller
        self.act1 = self.default_act
        self.act2 = self.act1  # one object at two places
        self.tied = self.a  # a module with parameters: stays shared

    def forward(self, x):
        return self.act2(self.b(self.act1(self.a(x)))) + self.tied(x)


def test_shared_stateless_modules_get_a_quantizer_set_per_place():
    # one activation object called at two places had one set of quantizers, calibrated over
    # both ranges (the small second stage lost its resolution), and quantizing changed the
    # class attribute's object for every later model of that class
    torch.manual_seed(0)
    model = _SharedParts()
    ff.quantize(model, weights=8, activations=8)
    assert type(_SharedParts.default_act) is torch.nn.SiLU  # the class's object is untouched
    assert model.act1 is not model.act2 and model.act1 is not _SharedParts.default_act
    assert model.tied is model.a
    x = torch.randn(32, 8)
    with torch.no_grad():
        with ff.calibration(model):
            model(x)
        r1 = model.act1.output_quantizer.quantization_range
        r2 = model.act2.output_quantizer.quantization_range
        assert float(r2[1] - r2[0]) < 0.5 * float(r1[1] - r1[0]), (r1, r2)
    fresh = _SharedParts()
    assert type(fresh.act1) is torch.nn.SiLU
    with torch.no_grad():
        fresh(x)  # a float model of the class still runs in float


def test_quantize_model_lists_unmapped_types_and_surrogates_fix_it():
    class Odd(torch.nn.Module):
        def forward(self, x):
            return x * 2

    # (a torch class no other test converts: quantized classes, once made, are known to the
    # whole process)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), Odd(), torch.nn.Softshrink())
    pristine = copy.deepcopy(model)
    e = expect(QuantizationError, ff.quantize_model, copy.deepcopy(model))
    assert "Odd" in str(e) and "torch.nn.modules.activation.Softshrink" in str(e)
    extra = ff.surrogate_quantized_modules(model)
    assert set(extra) == {Odd, torch.nn.Softshrink}
    q = ff.quantize_model(model, extra_conversion=extra)
    assert type(q[1]).__name__ == "QuantizedOddSurrogate"
    skipped = ff.quantize_model(pristine, extra_conversion={
        Odd: ff.nn.quantized_module.SKIP_QUANTIZATION, torch.nn.Softshrink: ff.nn.quantized_module.SKIP_QUANTIZATION})
    assert type(skipped[1]) is Odd and type(skipped[0]) is ff.nn.QuantizedLinear


class _Generated(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(3, 3))
        self.bias = torch.nn.Parameter(torch.randn(3))
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, input, other):
        return input


class _QuantizedGenerated(QuantizedModule, _Generated, include_in_module_map=False):
    def __init_quantization__(self):
        super().__init_quantization__()
        # as ffq emits them by default (FastForward's form, and hand-written code's): no tags
        self.quantizer_linear = QuantizerStub()
        self.quantizer_self_bias = QuantizerStub()
        self.quantizer_self_weight = QuantizerStub()
        self.quantizer_self_scale = QuantizerStub()
        self.quantizer_input = QuantizerStub()
        self.quantizer_other_2 = QuantizerStub()
        self.quantizer_add_1 = QuantizerStub()
        self.quantizer_h = QuantizerStub()


def test_tags_are_inferred_for_untagged_generated_stubs():
    g = _QuantizedGenerated()
    md = g.quantizer_metadata
    assert md["quantizer_self_weight"].weight_quantizer
    assert md["quantizer_self_bias"].bias_quantizer
    assert md["quantizer_self_scale"].parameter_quantizer and not md["quantizer_self_scale"].weight_quantizer
    assert md["quantizer_input"].input_quantizer and md["quantizer_other_2"].input_quantizer
    assert md["quantizer_linear"].output_quantizer and md["quantizer_add_1"].output_quantizer
    assert md["quantizer_h"].activation_quantizer and not md["quantizer_h"].input_quantizer
    assert [str(t) for t in infer_tags(g, "quantizer_self_weight")] == ["#parameter/weight"]
    found = ff.find_quantizers(g, "[quantizer:parameter/weight]")
    assert [n for n, _ in found.named_modules()] == ["quantizer_self_weight"]
    # explicit tags win over inference
    g.register_quantizer("quantizer_x", QuantizerStub(output_quantizer=True))
    assert g.quantizer_metadata["quantizer_x"].output_quantizer


def test_tags_inferred_on_a_model_in_the_shape_of_ffq_output():
    sys.path.insert(0, HERE)
    try:
        import ffq_float_models
        import ffq_quantized_models  # noqa: F401 - registers the generated classes
    finally:
        sys.path.remove(HERE)
    torch.manual_seed(0)
    model = ff.quantize_model(ffq_float_models.TinyNet())
    weights = sorted(n for n, _ in ff.find_quantizers(model, "**/[quantizer:parameter/weight]").named_modules())
    # ConvBlock calls F.conv2d on self.conv.weight (stub quantizer_self_conv_weight); its
    # nn.Conv2d is a built-in QuantizedConv2d with a weight quantizer of its own.
    assert weights == ["blocks.0.conv.weight_quantizer", "blocks.0.quantizer_self_conv_weight",
                       "blocks.1.conv.weight_quantizer", "blocks.1.quantizer_self_conv_weight",
                       "head.quantizer_self_weight"], weights
    md = model.quantizer_metadata
    # x is TinyNet.forward's parameter and is reassigned: the parameter's stub is the last one
    assert md["quantizer_x_2"].input_quantizer and not md["quantizer_x_1"].input_quantizer
    # self.scale is a plain float attribute, not a parameter
    assert md["quantizer_self_scale"].activation_quantizer and not md["quantizer_self_scale"].parameter_quantizer
    assert md["quantizer_softmax"].output_quantizer and md["quantizer_add_2"].output_quantizer
    assert md["quantizer__tmp_5"].activation_quantizer and not md["quantizer__tmp_5"].output_quantizer


TAGGED_MODEL = """\
import torch
import torch.nn.functional as F


def mix(a, b):
    return a * b


def project(x, w):
    return F.linear(x, w)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 2, 3, padding=1)
        self.act = torch.nn.GELU()

    def forward(self, x):
        y = F.conv2d(x, self.conv.weight, self.conv.bias, padding=1)
        return self.act(y) + x


class TagNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.weight = torch.nn.Parameter(torch.randn(4, 8))
        self.bias = torch.nn.Parameter(torch.randn(4))
        self.W = torch.nn.Parameter(torch.randn(3, 4))
        self.kernel = torch.nn.Parameter(torch.randn(3, 4))
        self.gain = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("shift", torch.zeros(3))
        self.eps = 1e-3
        self.out = torch.nn.Linear(3, 2)
        self.proj = torch.nn.Parameter(torch.randn(3, 3))

    def forward(self, x, z):
        z = torch.relu(z)
        x = self.block(x * 2)
        x = x.flatten(1)[:, :8]
        h = F.linear(x, self.weight, self.bias)
        h = F.relu(h)
        k = self.kernel
        u = F.linear(h, self.W) + F.linear(h, k)
        u = u * self.gain + self.shift + self.eps
        u = project(mix(u, z), self.proj)
        return self.out(u)
"""


# What each tag query selects on TagNet when ffq writes the tags (--stub-tags). The built-in
# layers (block.conv, block.act, out) carry their own tags either way.
# self.W and self.kernel (through k) go to F.linear's weight, self.proj to the helper's
TAGNET_WEIGHTS = ["block.conv.weight_quantizer", "block.quantizer_self_conv_weight", "out.weight_quantizer",
                  "quantizer_k", "quantizer_project_w", "quantizer_self_W", "quantizer_self_weight"]
TAGNET_BIASES = ["block.conv.bias_quantizer", "block.quantizer_self_conv_bias", "out.bias_quantizer",
                 "quantizer_self_bias"]
# self.gain and the buffer self.shift are tensors the module holds; self.eps is a float
TAGNET_PARAMETERS = sorted(TAGNET_WEIGHTS + TAGNET_BIASES + ["quantizer_self_gain", "quantizer_self_shift"])
# forward's parameters; x is reassigned too: ffq creates the parameter's quantizer last
TAGNET_INPUTS = ["block.act.input_quantizer", "block.conv.input_quantizer", "block.quantizer_x",
                 "out.input_quantizer", "quantizer_x_2", "quantizer_z"]
TAGNET_OUTPUTS = sorted(
    ["block.act.output_quantizer", "block.conv.output_quantizer", "out.output_quantizer",
     "block.quantizer_conv2d", "block.quantizer_add", "quantizer_linear_1", "quantizer_relu_1",
     "quantizer_relu_2", "quantizer_mul_1", "quantizer_mul_2",
     "quantizer_linear_2", "quantizer_linear_3", "quantizer_add_1", "quantizer_add_2",
     "quantizer_add_3", "quantizer_mix_mul", "quantizer_project_linear"])
# everything else is a plain activation: reassigned x, the slice, the block's result, the
# helper's parameters, the float attribute
TAGNET_OTHERS = ["block.quantizer__tmp_1", "quantizer_mix_a", "quantizer_mix_b", "quantizer_project_x",
                 "quantizer_self_eps", "quantizer_x_1"]


def _tagnet(name, *ffq_args):
    """TagNet generated by ffq (with ``ffq_args``) as module ``name`` (a new name each time: the
    import is cached), converted, checked against the float model; (quantized model, generated
    code, {query kind: sorted slot names})."""
    with tempfile.TemporaryDirectory() as d:
        float_module, quantized_module, text = _generate(d, name, TAGGED_MODEL, *ffq_args)
    # GELU and Linear are known modules: ffq generates no class for them
    assert "class QuantizedGELU" not in text and "class QuantizedLinear" not in text, text
    torch.manual_seed(0)
    model = float_module.TagNet()
    x, z = torch.randn(2, 2, 2, 2), torch.randn(2, 3)
    expected = model(x, z)
    ff.quantize_model(model)
    assert type(model) is quantized_module.QuantizedTagNet and type(model.block.act) is ff.nn.QuantizedGelu
    assert torch.equal(model(x, z), expected)

    def names(query):
        return sorted(n for n, _ in ff.find_quantizers(model, query).named_modules())

    found = {kind: names("**/[quantizer:%s]" % kind) for kind in
             ("parameter/weight", "parameter/bias", "parameter", "activation/input", "activation/output",
              "activation")}
    every = found["activation"] + found["parameter"]
    assert sorted(every) == sorted(n for n, _ in named_quantizers(model, skip_stubs=False) if n), every
    return model, text, found


def test_generated_stubs_are_tagged_and_tag_queries_select_exactly():
    model, text, found = _tagnet("tagged_model", "--stub-tags")
    assert "QuantizerStub()" not in text, text  # every stub says what it quantizes
    # the tags came from the generated code, not from the runtime's name-based fallback
    for module in (model, model.block):
        assert not module.__dict__.get("_ff_inferred_slots"), module.__dict__.get("_ff_inferred_slots")
    assert found["parameter/weight"] == TAGNET_WEIGHTS, found["parameter/weight"]
    assert found["parameter/bias"] == TAGNET_BIASES, found["parameter/bias"]
    assert found["parameter"] == TAGNET_PARAMETERS, found["parameter"]
    assert found["activation/input"] == TAGNET_INPUTS, found["activation/input"]
    assert found["activation/output"] == TAGNET_OUTPUTS, found["activation/output"]
    others = sorted(set(found["activation"]) - set(TAGNET_INPUTS) - set(TAGNET_OUTPUTS))
    assert others == TAGNET_OTHERS, others
    # a real quantizer in a tagged slot keeps the tag
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=8)
    assert sorted(n for n, _ in ff.find_quantizers(model, "**/[quantizer:parameter/weight]").named_modules()) \
        == TAGNET_WEIGHTS
    assert isinstance(model.quantizer_self_W, LinearQuantizer)


# Where the runtime's inference from stub names (ffq's default plain stubs) tells less than the
# tags ffq writes with --stub-tags: a weight reached through a local name (k = self.kernel) or
# passed to a helper (project(.., self.proj)) is an activation by name; a parameter not named
# *weight (self.W) is a parameter, not a weight; a buffer (self.shift) is an activation; an
# operator inside a helper (quantizer_mix_mul) is an activation, not an output.
TAGNET_INFERENCE_MISSES = {
    "parameter/weight": ["quantizer_k", "quantizer_project_w", "quantizer_self_W"],
    "parameter": ["quantizer_k", "quantizer_project_w", "quantizer_self_shift"],
    "activation/output": ["quantizer_mix_mul", "quantizer_project_linear"],
}


def test_plain_stubs_by_default_and_tag_queries_select_by_the_inferred_tags():
    model, text, found = _tagnet("plain_model")
    stub_lines = [ln for ln in text.splitlines() if "QuantizerStub(" in ln]
    assert stub_lines and all(ln.endswith("= fastforward.nn.QuantizerStub()") for ln in stub_lines), text
    for module in (model, model.block):  # every generated slot got its tags by inference
        assert module.__dict__.get("_ff_inferred_slots"), module
    expected = {"parameter/weight": TAGNET_WEIGHTS, "parameter/bias": TAGNET_BIASES, "parameter": TAGNET_PARAMETERS,
                "activation/input": TAGNET_INPUTS, "activation/output": TAGNET_OUTPUTS}
    for kind, names in expected.items():
        missed = TAGNET_INFERENCE_MISSES.get(kind, [])
        assert set(missed) <= set(names), (kind, missed)
        assert found[kind] == sorted(set(names) - set(missed)), (kind, found[kind])
    # what inference misses in a parameter or output query is a plain activation instead
    others = sorted(set(found["activation"]) - set(found["activation/input"]) - set(found["activation/output"]))
    missed = set(TAGNET_INFERENCE_MISSES["parameter"]) | set(TAGNET_INFERENCE_MISSES["activation/output"])
    assert others == sorted(set(TAGNET_OTHERS) | missed), others


def test_metadata_reconciliation_warns_on_conflicting_tags():
    lin = ff.quantize_model(torch.nn.Linear(2, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lin.weight_quantizer = QuantizerStub(output_quantizer=True)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    assert lin.weight_quantizer.quant_metadata.weight_quantizer
    expect(TypeError, lin.register_quantizer, "x", torch.nn.ReLU())


# --- switches ---------------------------------------------------------------------------------


def test_strict_quantization_flag_and_context_manager():
    before = ff.get_strict_quantization()
    with ff.strict_quantization(False):
        assert ff.get_strict_quantization() is False
        with ff.strict_quantization(True):
            assert ff.get_strict_quantization() is True
        assert ff.get_strict_quantization() is False
    assert ff.get_strict_quantization() is before
    handle = ff.strict_quantization(not before)  # a bare call changes it now
    assert ff.get_strict_quantization() is (not before)
    handle.__exit__(None, None, None)
    assert ff.get_strict_quantization() is before
    # strict mode: a float tensor reaching a quantized op is an error
    lin = ff.quantize_model(torch.nn.Linear(2, 2))
    with ff.strict_quantization(True):
        expect(QuantizationError, lin, torch.randn(1, 2))
        with ff.strict_quantization_for_module(False, lin):
            lin(torch.randn(1, 2))
            assert ff.get_strict_quantization() is True


def test_disable_and_enable_quantization():
    model = calibrated()
    x = torch.randn(4, 6)
    q_out = model(x)
    assert isinstance(q_out, QuantizedTensor)
    with ff.disable_quantization(model):
        assert not ff.get_strict_quantization()
        f_out = model(x)
        assert not isinstance(f_out, QuantizedTensor)
        with ff.enable_quantization(model):
            assert torch.equal(model(x).dequantize(), q_out.dequantize())
    assert torch.equal(model(x).dequantize(), q_out.dequantize())
    plain = small_model()
    assert torch.allclose(f_out, plain(x), atol=1e-6)


# --- calibration errors, freeze, save and load ---------------------------------------------------


def test_uncalibrated_quantizer_error_names_its_module_path():
    model = w8a8(ff.quantize_model(small_model()))
    e = expect(ValueError, model, torch.randn(2, 6))
    assert "'0.input_quantizer'" in str(e), str(e)


def test_estimate_ranges_covers_every_quantizer_of_a_model():
    model = calibrated()
    real = list(named_quantizers(model))
    assert len(real) == 13 and all(q.quantization_range[0] is not None for _, q in real)


def test_freeze_parameters_puts_weights_on_the_grid_and_stubs_the_quantizers():
    model = calibrated()
    x = torch.randn(4, 6)
    w_q = model[0].weight_quantizer(model[0].weight).dequantize().detach()
    with ff.freeze_parameters(model):
        model(x)
    assert torch.equal(model[0].weight.detach(), w_q)
    assert isinstance(model[0].weight_quantizer, QuantizerStub)
    assert model[0].weight_quantizer.quant_metadata.weight_quantizer
    assert len(list(named_quantizers(model))) == 0


def test_fuse_qdq_weights_and_weight_quantizer_discovery():
    model = calibrated()
    found = ff.quantization.find_weight_quantizers(model)
    assert [(m, a) for m, a, _ in found] == [(model[0], "weight"), (model[2][0], "weight"), (model[3], "weight")]
    w_q = model[3].weight_quantizer(model[3].weight).dequantize().detach()
    ff.quantization.fuse_qdq_weights(model, stub_quantizers=True)
    assert torch.equal(model[3].weight.detach(), w_q)
    assert isinstance(model[3].weight_quantizer, QuantizerStub) and model[3].weight_quantizer.quant_metadata.weight_quantizer
    assert not isinstance(model[0].input_quantizer, QuantizerStub)  # activations untouched


PAIRING_MODEL = """\
import torch
import torch.nn.functional as F


def project(x, w):
    return F.linear(x, w)


class Pair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(4, 4))
        self.W = torch.nn.Parameter(torch.randn(4, 4) * 3)
        self.k = torch.nn.Parameter(torch.randn(4, 4) * 5)
        self.kernel = torch.nn.Parameter(torch.randn(4, 4) * 7)
        self.proj = torch.nn.Parameter(torch.randn(4, 4) * 9)
        self.stack = torch.nn.Parameter(torch.randn(2, 4, 4))
        self.stack_1 = torch.nn.Parameter(torch.randn(4, 4) * 11)
        self.conv = torch.nn.Conv1d(4, 4, 1)

    def forward(self, x):
        h = F.linear(x, self.weight)
        h = F.linear(h, self.W) + F.linear(h, self.k)
        if self.k.shape[0] != 4:
            raise ValueError("k")
        k = self.kernel
        h = F.linear(h, k)
        h = project(h, self.proj)
        h = F.linear(h, self.stack[1]) + F.linear(h, self.stack[0])
        return F.conv1d(h.unsqueeze(-1), self.conv.weight).squeeze(-1)
"""

# weight stubs of Pair, and the tensor each quantizes (quantizer_k: self.kernel through the local
# name k; None: no whole parameter the code names: a helper's argument, a slice;
# quantizer_self_stack_1 is self.stack[1], not the parameter self.stack_1 its name would also fit)
PAIRING = {"quantizer_self_weight": "weight", "quantizer_self_W": "W", "quantizer_self_k": "k",
           "quantizer_self_conv_weight": "conv.weight", "quantizer_k": "kernel", "quantizer_project_w": None,
           "quantizer_self_stack_0": None, "quantizer_self_stack_1": None}


def _pairing_model(d, name="pairing_model"):
    float_module, _, _ = _generate(d, name, PAIRING_MODEL, "--stub-tags")
    torch.manual_seed(0)
    float_model = float_module.Pair()
    model = calibrated(copy.deepcopy(float_model), torch.randn(8, 4))
    # Pair never calls self.conv: its own quantizers get their ranges here
    for q in (model.conv.input_quantizer, model.conv.weight_quantizer, model.conv.output_quantizer):
        q.quantization_range = (-1.0, 1.0)
    return float_model, model


def test_weight_quantizers_are_paired_with_the_tensor_the_generated_code_passes():
    with tempfile.TemporaryDirectory() as d:
        float_model, model = _pairing_model(d)
        weights = sorted(n for n, _ in ff.find_quantizers(model, "[quantizer:parameter/weight]").named_modules())
        assert weights == sorted(PAIRING), weights
        found = ff.quantization.find_weight_quantizers(model)
        names = {id(q): n for n, q in model.named_modules()}
        owners = {id(m): n for n, m in model.named_modules()}
        pairs = sorted((names[id(q)], (owners[id(m)] + "." if owners[id(m)] else "") + a) for m, a, q in found)
        expected = sorted([(slot, path) for slot, path in PAIRING.items() if path is not None]
                          + [("conv.weight_quantizer", "conv.weight")])
        assert pairs == expected, pairs
        # fusing writes each quantizer's result into its own tensor, and only there
        fused = copy.deepcopy(model)
        before = {n: p.detach().clone() for n, p in fused.named_parameters()}
        ff.quantization.fuse_qdq_weights(fused, stub_quantizers=True)
        for slot, path in PAIRING.items():
            if path is None or path == "conv.weight":
                continue
            q = getattr(model, slot)
            assert torch.equal(getattr(fused, path).detach(), q(before[path]).dequantize()), slot
            assert not torch.equal(getattr(fused, path).detach(), before[path]), slot
            assert isinstance(getattr(fused, slot), QuantizerStub) and getattr(fused, slot).quant_metadata.weight_quantizer
        for path in ("proj", "stack", "stack_1"):
            assert torch.equal(getattr(fused, path).detach(), before[path]), path
        assert isinstance(fused.quantizer_project_w, LinearQuantizer)
        assert isinstance(fused.quantizer_self_stack_1, LinearQuantizer)


def test_freeze_stores_the_integers_of_the_tensor_each_generated_stub_quantizes():
    with tempfile.TemporaryDirectory() as d:
        float_model, model = _pairing_model(d)
        x = torch.randn(5, 4)
        before = model(x).dequantize()
        ints = {slot: getattr(model, slot).quantize(getattr(model, path)).raw_data.round().to(torch.int8)
                for slot, path in (("quantizer_self_weight", "weight"), ("quantizer_self_W", "W"),
                                   ("quantizer_k", "kernel"))}
        assert not torch.equal(ints["quantizer_self_weight"], ints["quantizer_self_W"])
        conv_ints = model.quantizer_self_conv_weight.quantize(model.conv.weight).raw_data.round().to(torch.int8)
        ff.freeze(model)
        for slot, path in (("quantizer_self_weight", "weight"), ("quantizer_self_W", "W"), ("quantizer_k", "kernel")):
            frozen = getattr(model, slot)
            assert isinstance(frozen, ff.quantization.FrozenWeightQuantizer), slot
            assert torch.equal(frozen.int_weight, ints[slot]), slot
            assert frozen.quant_metadata.weight_quantizer
            assert getattr(model, path) is None, path
        # conv.weight has two quantizers, its own and Pair's: both hold the integers
        assert model.conv.weight is None
        assert torch.equal(model.quantizer_self_conv_weight.int_weight, conv_ints)
        assert isinstance(model.conv.weight_quantizer, ff.quantization.FrozenWeightQuantizer)
        # self.k is also read as self.k.shape; the rest are reached through a helper or a
        # slice: all stay float, quantized on every call
        for path in ("k", "proj", "stack", "stack_1"):
            assert isinstance(model.get_parameter(path), torch.nn.Parameter), path
        for slot in ("quantizer_self_k", "quantizer_project_w", "quantizer_self_stack_1"):
            assert isinstance(getattr(model, slot), LinearQuantizer), slot
        assert torch.equal(model(x).dequantize(), before)
        # the frozen state loads into a fresh copy, which drops the same float weights
        fresh = ff.quantize_model(copy.deepcopy(float_model))
        fresh.load_state_dict(model.state_dict())
        assert fresh.weight is None and fresh.W is None and isinstance(fresh.k, torch.nn.Parameter)
        assert torch.equal(fresh(x).dequantize(), before)


def test_quantize_sets_each_weight_range_from_the_tensor_it_quantizes():
    from fastforward.range_setting.common import tile_minmax

    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "pairing_model", PAIRING_MODEL, "--stub-tags")
        torch.manual_seed(0)
        float_model = float_module.Pair()
        model = ff.quantize(copy.deepcopy(float_model), weights=8)
        def range_of(quantizer, path):
            reference = copy.deepcopy(quantizer)
            reference.quantization_range = tile_minmax(float_model.get_parameter(path).detach(),
                                                       quantizer.granularity)
            return [t.detach() for t in reference.quantization_range]

        def same_range(quantizer, path):
            return all(torch.equal(a.detach(), b) for a, b in zip(quantizer.quantization_range,
                                                                  range_of(quantizer, path)))

        for slot, path in (("quantizer_self_W", "W"), ("quantizer_self_weight", "weight"), ("quantizer_k", "kernel")):
            assert same_range(getattr(model, slot), path), slot
        assert not same_range(model.quantizer_self_W, "weight")
        # quantizer_project_w quantizes self.proj inside the helper: its range comes from the
        # first tensor it quantizes
        assert model.quantizer_project_w.has_uninitialized_params
        model(torch.randn(3, 4))
        assert same_range(model.quantizer_project_w, "proj") and not list(model.quantizer_project_w.overrides)


TRANSPOSED_MODEL = """\
import torch
import torch.nn.functional as F


class Conv1DLike(torch.nn.Module):
    # transformers' Conv1D (GPT-2): a linear layer storing its weight as [in, out]; the
    # columns (output channels) span two decades
    def __init__(self, nx, nf):
        super().__init__()
        self.nf = nf
        self.weight = torch.nn.Parameter(torch.randn(nx, nf) * torch.linspace(0.05, 4.0, nf))
        self.bias = torch.nn.Parameter(torch.randn(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class Uses(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.both_weight = torch.nn.Parameter(torch.randn(16, 16))
        self.proj_weight = torch.nn.Parameter(torch.randn(16, 16))
        self.mat1_weight = torch.nn.Parameter(torch.randn(16, 16))

    def forward(self, x):
        y = torch.addmm(x[0], x, self.both_weight) + F.linear(x, self.both_weight)  # [in, out] and [out, in]
        z = F.linear(y, self.proj_weight)
        return torch.addmm(z[:, 0], self.mat1_weight, z.t()).t()  # a weight as mat1: not a layer's


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = Conv1DLike(64, 16)
        self.c_narrow = Conv1DLike(48, 16)  # 48 inputs: no groups of 32 at 4 bits
        self.uses = Uses()
        self.head = torch.nn.Linear(16, 64)

    def forward(self, x):
        h = self.c_fc(x) + self.c_narrow(x[..., :48])
        return self.head(self.uses(h.reshape(-1, 16)))
"""


def test_quantize_scales_weights_along_the_output_channels_their_op_reads():
    # ff.quantize gave a weight of a generated class (plain stubs: no shape) one scale for
    # the whole tensor, and a scale per dim 0 would be per *input* for a weight stored
    # [in, out] (torch.addmm(bias, x, weight): GPT-2's Conv1D). The op consuming the slot says
    # which dimension holds the output channels.
    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "transposed_model", TRANSPOSED_MODEL)
        torch.manual_seed(0)
        float_model = float_module.Net()
        model = ff.quantize(copy.deepcopy(float_model), weights=8)
        for layer in (model.c_fc, model.c_narrow):
            q, w = layer.quantizer_self_weight, layer.weight.detach()
            assert q.granularity == ff.PerChannel(1), q.granularity
            assert q.scale.numel() == 16
            with torch.no_grad():
                error = (q(w).dequantize() - w).abs().amax(0) / w.abs().amax(0)
            assert float(error.max()) <= 1 / 250, "per column: within half a step of each column's range"
        assert model.head.weight_quantizer.granularity == ff.PerChannel(0)  # nn.Linear's: as before
        assert model.uses.quantizer_self_proj_weight.granularity == ff.PerChannel(0)  # F.linear's [out, in]
        # read as [in, out] and as [out, in], or as addmm's mat1: no one output dimension
        assert model.uses.quantizer_self_both_weight.granularity == ff.PerTensor()
        assert model.uses.quantizer_self_mat1_weight.granularity == ff.PerTensor()
        x = torch.randn(2, 3, 64)
        with torch.no_grad():
            want = float_model(x)
            got = value(model(x))
        assert float((got - want).norm() / want.norm()) < 0.02
        # int4: groups of 32 inputs (dim 0 of an [in, out] weight) per output column
        model4 = ff.quantize(copy.deepcopy(float_model), weights=4)
        g = model4.c_fc.quantizer_self_weight.granularity
        assert isinstance(g, ff.PerBlock), g
        assert (g.block_dims, g.block_sizes, g.per_channel_dims) == ((0,), (32,), (1,)), g
        assert model4.c_narrow.quantizer_self_weight.granularity == ff.PerChannel(1)
        assert model4.uses.quantizer_self_proj_weight.granularity == ff.PerChannel(0)  # 16 inputs: no group
        with torch.no_grad():
            got4 = value(model4(x))
        assert float((got4 - want).norm() / want.norm()) < 0.3


class _AxisForms(torch.nn.Module):
    """Forms of generated (or hand-written) code that say, or do not say, which dimension of
    a quantized weight holds the output channels."""

    def forward(self, x, b):
        y = ff.nn.functional.addmm(b, x, self.quantizer_direct(self.a))  # 1
        y = y + ff.nn.functional.addmm(b, x, mat2=self.quantizer_keyword(self.a))  # 1
        y = y + torch.addmm(b, x, self.quantizer_torch(self.a))  # 1 (torch's own op)
        named = self.quantizer_named(self.a)
        y = y + ff.nn.functional.linear(x, named) + torch.nn.functional.linear(x, named)  # 0
        twice = self.quantizer_twice(self.a)  # bound twice: which value an op reads is unknown
        twice = twice * 2
        y = y + ff.nn.functional.linear(x, twice)
        kept = self.quantizer_kept(self.a)
        y = y + ff.nn.functional.addmm(b, x, kept) + kept  # used elsewhere too
        y = y + ff.nn.functional.addmm(b, self.quantizer_mat1(self.a), x)  # mat1: no axis
        y = y + helper(x, self.quantizer_handed_on)  # the quantizer itself handed on
        y = y + ff.nn.functional.addmm(b, x, *[self.quantizer_starred(self.a)])
        return y

    def other(self, x, b):
        y = ff.nn.functional.addmm(b, x, self.quantizer_two_methods(self.a))
        y = y + ff.nn.functional.linear(x, self.quantizer_two_methods(self.a))  # disagree
        y = y + ff.nn.functional.addmm(b, x, self.quantizer_in_both(self.a))
        return y + ff.nn.functional.conv2d(x, self.quantizer_conv(self.a))  # 0

    def shadowing(self, x, b, torch):
        return torch.addmm(b, x, self.quantizer_shadowed(self.a))  # a local named torch


def helper(x, quantizer):
    return quantizer(x)


def test_weight_output_axis_reads_the_consuming_op():
    from fastforward.quantization._tensors import weight_output_axis

    m = _AxisForms()
    want = {"quantizer_direct": 1, "quantizer_keyword": 1, "quantizer_torch": 1, "quantizer_named": 0,
            "quantizer_twice": None, "quantizer_kept": None, "quantizer_mat1": None,
            "quantizer_handed_on": None, "quantizer_starred": None, "quantizer_two_methods": None,
            "quantizer_in_both": 1, "quantizer_conv": 0, "quantizer_shadowed": None, "quantizer_absent": None}
    got = {slot: weight_output_axis(m, slot) for slot in want}
    assert got == want, got


IN_PLACE_MODEL = """
import torch


class Fill(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x, scale, idx):
        dim_t = torch.arange(4, dtype=torch.float32)
        dim_t //= 2
        dim_t.mul_(0.5)
        out = torch.zeros_like(x)
        out.index_add_(0, idx, self.lin(x))
        mask = torch.zeros_like(x)
        mask = mask.masked_fill_(x > 0, 1.0)
        scaled = x * scale
        scaled[:, :2] *= 0.5
        kept = x.clone()  # (ultralytics' pose head: a copy of a quantized input, then slices set)
        kept[:, 3] = kept[:, 3] * 0.5 - 1.0
        emb = 2.0 * self.lin(x)  # (ESM-2's token dropout: a scaled module output, then filled)
        emb.masked_fill_(x < -1.0, 0.0)
        # in-place methods chained on a fresh value (torch_geometric's InstanceNorm; torch's
        # _canonical_mask behind nn.MultiheadAttention's key_padding_mask)
        clamped = (self.lin(x) - 1).clamp_(min=0)
        filled = torch.zeros_like(x, dtype=torch.float32).masked_fill_(x > 1.0, 0.5)
        # names unpacked from what map hands back, then changed in place (SGFormer's attention)
        ks, vs = map(lambda t: t.reshape(5, 4), (self.lin(x), self.lin(x * 2)))
        vs.masked_fill_(torch.arange(20).reshape(5, 4) % 3 == 0, 0.0)
        return (out * mask + dim_t) * scale + scaled + kept + emb + clamped + filled + ks * vs
"""


def test_values_changed_in_place_run_with_real_quantizers():
    # generated code must never hand an in-place change a QuantizedTensor: `v //= 2` then
    # `v.mul_()`, an accumulator filled by index_add_, a product scaled slice by slice, a
    # clone of the quantized input whose slice is set to values off its grid, a module's
    # output times a number (a QuantizedTensor on a scaled grid) then filled, in-place methods
    # chained on an op's result
    with tempfile.TemporaryDirectory() as d:
        float_module, quantized_module, text = _generate(d, "in_place_model", IN_PLACE_MODEL)
        assert "self.quantizer_dim_t(" not in text and "self.quantizer_out(" not in text
        assert "self.quantizer_scaled(" not in text
        assert "kept = fastforward.nn.functional.dequantized(kept)" in text
        assert "emb = fastforward.nn.functional.dequantized(emb)" in text
        assert text.count(".clamp_(min=0)") == 1 and "fastforward.nn.functional.dequantized(_tmp_" in text
        assert "vs = fastforward.nn.functional.dequantized(vs)" in text
        torch.manual_seed(0)
        float_model = float_module.Fill()
        model = w8a8(ff.quantize_model(copy.deepcopy(float_model)))
        x, idx = torch.randn(5, 4), torch.tensor([0, 2, 2, 1, 4])
        with ff.strict_quantization(False), torch.no_grad():
            with ff.estimate_ranges(model, ff.range_setting.running_minmax):
                model(x, torch.rand(1), idx)
            for integer in (False, True):
                with _integer.integer_execution(integer):
                    got = value(model(x, torch.tensor([0.25]), idx))
                want = float_model(x, torch.tensor([0.25]), idx)
                assert got.shape == want.shape and torch.allclose(got, want, atol=0.1), (integer, float((got - want).abs().max()))


COPYING_CTOR_MODEL = """
import torch


def with_values(adj, value):  # no quantizer of its own: left float, called with real values
    return torch.sparse_coo_tensor(adj._indices(), value, adj.size()).to_dense()


class Build(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x, idx):
        v = self.lin(x).relu() * 2
        a = torch.sparse_coo_tensor(idx, v[0], (3, 3)).to_dense()
        b = torch.tensor(v[1] + 1)
        c = x.new_tensor(v[0] * 3)
        n = torch.nested.nested_tensor([v[0] + 0, v[1] + 0]).to_padded_tensor(0.0)
        d = with_values(torch.eye(3).to_sparse(), v[0] * 2)
        return a.sum(0) + b + c + n.sum(0) + torch.tensor([1.0, 2.0, 3.0]) + d.sum(0)
"""


def test_constructors_that_copy_memory_get_real_values():
    # torch.tensor, x.new_tensor, torch.sparse_*_tensor and torch.nested.nested_tensor copy a
    # tensor's memory without asking it: given a QuantizedTensor they took its integer codes
    # (0.5 became 127, torch_geometric's gcn_norm); the generated code hands them real values
    import warnings as _warnings

    with tempfile.TemporaryDirectory() as d:
        float_module, _, text = _generate(d, "copying_ctor_model", COPYING_CTOR_MODEL)
        assert text.count("fastforward.nn.functional.dequantized(") == 6, text
        assert re.search(r"with_values\(\s*fastforward\.nn\.functional\.dequantized\(", text), text
        torch.manual_seed(0)
        float_model = float_module.Build()
        model = w8a8(ff.quantize_model(copy.deepcopy(float_model)))
        x, idx = torch.randn(2, 3), torch.tensor([[0, 1, 2], [0, 1, 2]])
        with ff.strict_quantization(False), torch.no_grad(), _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # nested tensors' prototype warning
            with ff.estimate_ranges(model, ff.range_setting.running_minmax):
                model(x, idx)
            want = float_model(x, idx)
            for integer in (False, True):
                with _integer.integer_execution(integer):
                    got = value(model(x, idx))
                assert torch.allclose(got, want, atol=0.15), (integer, got, want)


LAYOUT_MODEL = """
import torch
import torch.nn.functional as F


class Layout(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.mu = torch.nn.Conv2d(4, 4, 1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        up = F.interpolate(y, scale_factor=2.0)
        flat = up.view(up.shape[0], up.shape[1], -1)
        mu = self.mu(y)
        torch.manual_seed(0)
        eps = torch.randn_like(mu)
        return flat.mean(-1), (mu + eps).view(mu.shape[0], -1)
"""


def test_integer_path_keeps_the_memory_format_of_the_simulation():
    # the integer conv wrote its output channels_last whatever its input: `view` of a float
    # op's result (interpolate, roll) then failed, and `randn_like` filled another memory
    # order than the simulation (monai's SPADE autoencoder: -3 dB)
    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "layout_model", LAYOUT_MODEL)
        torch.manual_seed(0)
        model = w8a8(ff.quantize_model(float_module.Layout()))
        x = torch.randn(2, 3, 8, 8)
        with ff.strict_quantization(False), torch.no_grad():
            with ff.estimate_ranges(model, ff.range_setting.running_minmax):
                model(x)
            with _integer.integer_execution(False):
                want = [value(t) for t in model(x)]
            with _integer.integer_execution(True):
                got = [value(t) for t in model(x)]
            assert _integer.last_path() is not None
        for g, w in zip(got, want):
            assert g.shape == w.shape and torch.allclose(g, w, atol=0.05), float((g - w).abs().max())


UNSET_MODEL = """
import torch


class Masked(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x, keep):
        scores = self.lin(x)
        filled = torch.where(keep, scores, torch.full_like(scores, float("-inf")))
        none = scores[keep.sum(1) > 99]  # no row: the quantizer only ever sees an empty tensor
        return torch.softmax(filled, dim=-1) + torch.relu(none).sum()
"""


def test_quantizers_that_saw_infinities_or_empty_data_become_stubs_after_calibration():
    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "unset_model", UNSET_MODEL)
        torch.manual_seed(0)
        float_model = float_module.Masked()
        model = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
        x, keep = torch.randn(3, 4), torch.rand(3, 4) > 0.3
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with torch.no_grad(), ff.calibration(model):
                model(x, keep)
        named = dict(model.named_modules())

        def listed(text):
            return sorted(n for n in named if n.startswith("quantizer_") and n in text)

        masks = [str(m.message) for m in w if "holds infinities" in str(m.message)]
        unset = [str(m.message) for m in w if "no range could be set" in str(m.message)]
        assert len(masks) == 1 and len(unset) == 1, [str(m.message) for m in w]
        # the -inf fill and the masked scores (quantized, -inf would become the lowest score)
        assert listed(masks[0]) == ["quantizer_filled", "quantizer_full_like"], masks
        # the empty selection and its relu: ran, but no range
        assert listed(unset[0]) == ["quantizer_none", "quantizer_relu"], unset
        assert all(isinstance(named[n], QuantizerStub) for n in listed(masks[0] + unset[0]))
        assert not isinstance(named["quantizer_scores"], QuantizerStub)
        with torch.no_grad():  # runs again on the same data, close to the float model
            got = value(model(x, keep))
            want = float_model(x, keep)
        assert torch.isfinite(got).all() and torch.allclose(got, want, atol=0.05)


FILL_MODEL = """
import torch


class Scores(torch.nn.Module):
    def __init__(self, fill):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.fill = fill

    def forward(self, x, keep, wide):
        scores = self.lin(x)
        filled = scores.masked_fill(~keep, self.fill)
        return torch.softmax(filled, dim=-1) + wide * 1e-4
"""


def test_finite_mask_fills_become_stubs_and_wide_data_stays_quantized():
    # torchaudio fills masked scores with -1e8, older attention code with -10000: below
    # MASK_MAGNITUDE, so the quantizers of the fill and of the filled scores got an 8-bit grid
    # whose step (4e5 for -1e8) made every real score 0, and attention uniform (torchaudio's
    # Emformer: 7.5 dB at its output projection). Such a repeated fill, far from everything
    # else, is a mask like -inf; data that is merely wide is not.
    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "fill_model", FILL_MODEL)
        for fill in (-1e8, -10000.0):
            torch.manual_seed(0)
            float_model = float_module.Scores(fill)
            model = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
            x, keep = torch.randn(6, 4), torch.rand(6, 4) > 0.3
            keep[:, 0] = True
            wide = torch.linspace(-3e4, 3e4, 24).reshape(6, 4)  # wide, no repeated fill
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                with torch.no_grad(), ff.calibration(model):
                    model(x, keep, wide)
            named = dict(model.named_modules())
            masks = [str(m.message) for m in w if "fill values of masks" in str(m.message)]
            assert len(masks) == 1, [str(m.message) for m in w]
            assert "quantizer_filled" in masks[0] and isinstance(named["quantizer_filled"], QuantizerStub), masks
            assert "quantizer_wide" not in masks[0] and not isinstance(named["quantizer_wide"], QuantizerStub)
            with torch.no_grad():
                got, want = value(model(x, keep, wide)), float_model(x, keep, wide)
            assert torch.allclose(got, want, atol=0.05), float((got - want).abs().max())


def test_untagged_stubs_get_inferred_tags_and_freeze_by_them():
    with tempfile.TemporaryDirectory() as d:
        float_module, quantized_module, text = _generate(d, "pairing_plain", PAIRING_MODEL)  # plain by default
        stub_lines = [ln for ln in text.splitlines() if "QuantizerStub(" in ln]
        assert stub_lines and all(ln.endswith("fastforward.nn.QuantizerStub()") for ln in stub_lines), text
        torch.manual_seed(0)
        float_model = float_module.Pair()
        x = torch.randn(3, 4)
        model = ff.quantize_model(copy.deepcopy(float_model))
        with ff.strict_quantization(False):
            assert torch.equal(model(x), float_model(x))
        assert model.__dict__.get("_ff_inferred_slots")
        md = model.quantizer_metadata
        assert md["quantizer_self_weight"].weight_quantizer and md["quantizer_x"].input_quantizer
        assert md["quantizer_linear_1"].output_quantizer and md["quantizer_h"].activation_quantizer
        # by name alone: self.W is a parameter, not a weight; k is a local name
        assert md["quantizer_self_W"].parameter_quantizer and not md["quantizer_self_W"].weight_quantizer
        assert md["quantizer_k"].activation_quantizer

        def names(kind):
            return sorted(n for n, _ in ff.find_quantizers(model, "**/[quantizer:%s]" % kind).named_modules())

        # the queries select by the inferred tags: of PAIRING's stubs (all weight stubs with
        # --stub-tags) only those named self_<...>weight; the other self_<name> stubs are
        # parameters, quantizer_k and the helper's quantizer_project_w activations
        assert names("parameter/weight") == ["conv.weight_quantizer", "quantizer_self_conv_weight",
                                             "quantizer_self_weight"], names("parameter/weight")
        assert names("parameter") == sorted(
            ["conv.bias_quantizer", "conv.weight_quantizer", "quantizer_self_W", "quantizer_self_conv_weight",
             "quantizer_self_k", "quantizer_self_stack_0", "quantizer_self_stack_1", "quantizer_self_weight"]
        ), names("parameter")
        assert names("activation/input") == ["conv.input_quantizer", "quantizer_x"], names("activation/input")
        assert "quantizer_k" in names("activation") and "quantizer_project_w" in names("activation")
        with ff.strict_quantization(False):  # self.W's "parameter" stub stays a stub
            model = calibrated(model, torch.randn(8, 4))
            before = model(x).dequantize()
            ff.freeze(model)
            assert isinstance(model.quantizer_self_weight, ff.quantization.FrozenWeightQuantizer)
            assert model.weight is None and isinstance(model.W, torch.nn.Parameter)
            assert isinstance(model.quantizer_self_W, QuantizerStub)
            assert torch.equal(model(x).dequantize(), before)


def test_qop_wraps_a_function_with_an_output_quantizer():
    q = LinearQuantizer(8)
    q.quantization_range = (-4.0, 4.0)
    op = ff.nn.QOp(torch.mul, output_quantizer=q)
    assert op.output_quantizer is q and q.quant_metadata.output_quantizer
    x = torch.tensor([0.5, -1.0])
    qx = q(x)
    y = op(qx, 3.0)
    assert isinstance(y, QuantizedTensor) and torch.allclose(y.dequantize(), x * 3, atol=4 / 127)
    plain = ff.nn.QOp(torch.add)
    assert isinstance(plain.output_quantizer, QuantizerStub) and torch.equal(plain(x, x), x + x)


def test_strict_flag_is_restored_when_a_forward_raises():
    if torch.__version__.startswith("1."):
        skip("torch %s has no always-called forward hooks" % torch.__version__)

    class Boom(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    boom = Boom()
    with ff.strict_quantization(True):
        with ff.strict_quantization_for_module(False, boom):
            expect(RuntimeError, boom, torch.ones(1))
        assert ff.get_strict_quantization() is True


def _state_bytes(sd):
    return sum(v.numel() * v.element_size() for v in sd.values() if isinstance(v, torch.Tensor))


def test_freeze_stores_integer_weights_and_round_trips_through_state_dict():
    torch.manual_seed(0)
    float_model = torch.nn.Sequential(torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128))
    model = calibrated(copy.deepcopy(float_model), torch.randn(32, 128))
    x = torch.randn(8, 128)
    before = model(x).dequantize()
    ff.freeze(model)
    assert model[0].weight is None and model[0].weight_quantizer.int_weight.dtype == torch.int8
    assert torch.equal(model(x).dequantize(), before)
    ratio = _state_bytes(float_model.state_dict()) / _state_bytes(model.state_dict())
    assert ratio >= 3.5, ratio
    fresh = ff.quantize_model(copy.deepcopy(float_model))
    fresh.load_state_dict(model.state_dict())
    assert fresh[0].weight is None
    assert torch.equal(fresh(x).dequantize(), before)


def test_a_frozen_state_dict_loads_into_the_unfrozen_form_of_the_model():
    # Quanto's reload: quantize a fresh float model the same way, then load_state_dict the
    # frozen one's state. Only a copy still holding stubs took the frozen weights; one whose
    # weight slots held live quantizers (fastforward.quantize's, a QuantizationConfig's,
    # calibrated or not) reported the float weights missing and int_weight unexpected.
    torch.manual_seed(0)
    float_model = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    x, data = torch.randn(4, 16), torch.randn(32, 16)

    def quanto_way():
        return ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)

    def config_way():
        return calibrated(copy.deepcopy(float_model), data)

    for make in (quanto_way, config_way):
        model = make()
        with ff.calibration(model):
            model(data)
        want = model(x).dequantize()
        ff.freeze(model)
        state = model.state_dict()
        uncalibrated = make()
        calibrated_copy = make()
        with ff.calibration(calibrated_copy):
            calibrated_copy(data)
        for copy_ in (uncalibrated, calibrated_copy):
            result = copy_.load_state_dict(state)
            assert not result.missing_keys and not result.unexpected_keys, (make.__name__, result)
            assert copy_[0].weight is None and copy_[2].weight is None
            assert copy_[0].weight_quantizer.int_weight.dtype == torch.int8
            assert torch.equal(copy_(x).dequantize(), want), make.__name__
    # an unfrozen state dict still loads into live quantizers without replacing them
    live = quanto_way()
    slot = live[0].weight_quantizer
    source = quanto_way()
    with ff.calibration(source):
        source(data)
    live.load_state_dict(source.state_dict())
    assert live[0].weight_quantizer is slot and isinstance(live[0].weight, torch.nn.Parameter)


def test_freeze_stores_the_integers_of_layer_norm_weights_too():
    # QuantizedLayerNorm's forward also read self.weight outside its quantizer call (its
    # float fast path, taken only while every slot is a stub), so freeze saw another reader
    # and left the weight float and its quantizer re-quantizing it on every call; a model
    # with no other weight could not be frozen at all (ValueError).
    torch.manual_seed(0)
    float_model = torch.nn.Sequential(torch.nn.LayerNorm(8), torch.nn.Linear(8, 4), torch.nn.LayerNorm(4))
    with torch.no_grad():
        float_model[0].weight.mul_(torch.linspace(0.5, 2.0, 8))
    x = torch.randn(16, 8)
    model = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
    with ff.calibration(model):
        model(x)
    want = model(x).dequantize()
    ff.freeze(model)
    for i in (0, 2):
        assert model[i].weight is None and model[i].weight_quantizer.int_weight.dtype == torch.int8
    assert torch.equal(model(x).dequantize(), want)
    again = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
    result = again.load_state_dict(model.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(again(x).dequantize(), want)
    only_norm = ff.quantize(torch.nn.Sequential(torch.nn.LayerNorm(8)), weights=8, activations=8)
    with ff.calibration(only_norm):
        only_norm(x)
    want = only_norm(x).dequantize()
    ff.freeze(only_norm)
    assert torch.equal(only_norm(x).dequantize(), want)
    # the float fast path of an all-stub layer, and a slot emptied by hand, still read the weight
    norm = ff.quantize_model(torch.nn.Sequential(torch.nn.LayerNorm(8)))
    reference = torch.nn.functional.layer_norm(x, (8,), norm[0].weight, norm[0].bias)
    with ff.strict_quantization(False):
        assert torch.equal(norm(x), reference)
        norm[0].weight_quantizer = None
        norm[0].input_quantizer = LinearQuantizer(8, symmetric=False)
        norm[0].input_quantizer.quantization_range = (-4.0, 4.0)
        assert torch.allclose(norm(x), reference, atol=0.1)


def test_frozen_model_runs_first_under_inference_mode():
    # the frozen weight's integers are kept as a float copy, made on the first call: made
    # under torch.inference_mode() it was an inference tensor, whose version counter the
    # next call read ("Inference tensors do not track version counter")
    torch.manual_seed(0)
    model = calibrated(torch.nn.Sequential(torch.nn.Linear(16, 8)), torch.randn(8, 16))
    x = torch.randn(4, 16)
    with torch.no_grad():
        want = model(x).dequantize()
    ff.freeze(model)
    for _ in range(2):
        with torch.inference_mode():
            assert torch.equal(model(x).dequantize(), want)
    with torch.no_grad():  # and outside inference mode afterwards
        assert torch.equal(model(x).dequantize(), want)


BRANCHY_MODEL = """
import torch


class Branchy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 8)
        self.heads = 2

    def forward(self, x, mask=None):
        b, d = x.shape
        y = torch.cumsum(self.fc(x), dim=-1)  # a float op on quantized values (strict: an error)
        if mask is not None:  # a branch the calibration data does not take
            y = y * mask
        return y.view(b, self.heads, d // self.heads)  # `d // self.heads`: a Python number
"""


def test_models_made_by_quantize_save_and_reload_every_way():
    # ff.quantize puts quantizers on every slot, also on Python numbers and on branches the
    # calibration never takes: their lazy parameters made model.state_dict() fail; and its
    # models run without strict quantization through hooks that neither pickled (torch.save)
    # nor travelled with the state, so a fresh copy loaded with it raised on its float ops
    import pickle

    ff.set_strict_quantization(True)  # the default (these tests start non-strict)
    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "branchy_model", BRANCHY_MODEL)
        torch.manual_seed(0)
        float_model = float_module.Branchy()
        model = copy.deepcopy(float_model)
        ff.quantize(model, weights=8, activations=8)
        x = torch.randn(4, 8)
        with torch.no_grad(), ff.calibration(model):
            model(x)
        assert sorted(model._ff_unreached_quantizers) == ["quantizer_mask", "quantizer_mul"], \
            model._ff_unreached_quantizers  # (the Python-number quantizer is a stub silently)
        with torch.no_grad():
            want = model(x).dequantize()
            masked = model(x, torch.ones(8))  # the untaken branch runs, unquantized
        assert masked.shape == want.shape
        state = model.state_dict()
        fresh = ff.quantize_model(copy.deepcopy(float_model))
        fresh.load_state_dict(state)
        with torch.no_grad():
            assert torch.equal(fresh(x).dequantize(), want)
        again = pickle.loads(pickle.dumps(model))  # what torch.save of the whole model does
        with torch.no_grad():
            assert torch.equal(again(x).dequantize(), want)
        ff.save_quantization_state(model, name_or_path="branchy", cache_dir=d)
        other = ff.quantize_model(copy.deepcopy(float_model))
        ff.load_quantization_state(other, name_or_path="branchy", cache_dir=d)
        with torch.no_grad():
            assert torch.equal(other(x).dequantize(), want)
        assert ff.get_strict_quantization()  # outside those models' forwards, strict as before


def test_conv3d_is_a_builtin_layer_whose_weight_is_quantized_and_frozen_as_a_weight():
    # nn.Conv3d had no built-in quantized class: ffq generated one from torch's source, where
    # forward hands self.weight to _conv_forward's parameter; that slot was tagged 'activation'
    # (a helper's argument), so ff.quantize gave the weight a per-tensor activation quantizer
    # calibrated on the data, quantized the bias too, and freeze found no weight to freeze
    # (torchvision's S3D: "has no weight quantizer with stored parameters").
    torch.manual_seed(0)
    float_model = torch.nn.Sequential(torch.nn.Conv3d(2, 4, 3, padding=1), torch.nn.ReLU(),
                                      torch.nn.Conv3d(4, 3, (1, 3, 3), stride=(1, 2, 2))).eval()
    x = torch.randn(1, 2, 3, 8, 8)
    plain = ff.quantize_model(copy.deepcopy(float_model))
    assert type(plain[0]).__name__ == "QuantizedConv3d" and type(plain[0]).__module__ == "fastforward.nn.quantized_layers"
    with ff.strict_quantization(False):
        assert torch.equal(plain(x), float_model(x))
    model = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8, use_ffq=False)
    conv = model[0]
    assert isinstance(conv.weight_quantizer, LinearQuantizer) and conv.weight_quantizer.granularity == ff.PerChannel(0)
    assert isinstance(conv.bias_quantizer, QuantizerStub)
    with torch.no_grad(), ff.calibration(model):
        model(x)
    with torch.no_grad():
        want = model(x).dequantize()
        ref = float_model(x)
    assert 10 * torch.log10(ref.pow(2).sum() / (ref - want).pow(2).sum()) > 30
    ff.freeze(model)
    assert model[0].weight is None and model[2].weight is None
    with torch.no_grad():
        assert torch.equal(model(x).dequantize(), want)


def test_calibrated_state_loads_into_a_fresh_model_made_by_quantize():
    # The Quanto way of reloading: quantize a fresh float model the same way, then load the
    # calibrated state. Its slots that calibration had turned into stubs (a branch never
    # taken) still held uncalibrated quantizers (load_state_dict: missing 'scale' keys), and
    # the switch holding its activations back until calibration stayed: the loaded model ran
    # its activations in float (plain tensors out, silently).
    with tempfile.TemporaryDirectory() as d:
        float_module, _, _ = _generate(d, "branchy_reload", BRANCHY_MODEL)
        torch.manual_seed(0)
        float_model = float_module.Branchy()
        model = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
        x = torch.randn(4, 8)
        with torch.no_grad(), ff.calibration(model):
            model(x)
        with torch.no_grad():
            want = model(x)
        assert isinstance(want, QuantizedTensor)
        for state in (model.state_dict(), pickle_roundtrip(model.state_dict())):
            fresh = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
            result = fresh.load_state_dict(state)
            assert not result.missing_keys and not result.unexpected_keys, result
            assert isinstance(fresh.quantizer_mask, QuantizerStub) and isinstance(fresh.quantizer_mul, QuantizerStub)
            with torch.no_grad():
                got = fresh(x)
            assert isinstance(got, QuantizedTensor) and torch.equal(got.dequantize(), want.dequantize())
            again = fresh.state_dict()  # and its own state says the same
            assert sorted(again) == sorted(state)
        # the same through save_quantization_state (the file lists the calibration's stubs)
        ff.save_quantization_state(model, name_or_path="branchy_reload", cache_dir=d)
        fresh = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
        ff.load_quantization_state(fresh, name_or_path="branchy_reload", cache_dir=d, overwrite_policy="overwrite")
        assert isinstance(fresh.quantizer_mask, QuantizerStub) and isinstance(fresh.quantizer_mul, QuantizerStub)
        with torch.no_grad():
            assert torch.equal(fresh(x).dequantize(), want.dequantize())
        # a float state dict loaded into it leaves its quantizers waiting for calibration
        fresh = ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)
        fresh.load_state_dict(float_model.state_dict(), strict=False)
        assert not isinstance(fresh.quantizer_mul, QuantizerStub)
        with torch.no_grad():
            assert type(fresh(x)) is torch.Tensor


def pickle_roundtrip(obj):
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf)


def test_calibrated_state_dict_loads_into_a_fresh_copy_bitwise():
    float_model = small_model()
    model = calibrated(copy.deepcopy(float_model))
    x = torch.randn(5, 6)
    fresh = ff.quantize_model(copy.deepcopy(float_model))
    result = fresh.load_state_dict(model.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(fresh(x).dequantize(), model(x).dequantize())
    # also through torch.save / torch.load
    with tempfile.TemporaryDirectory() as d:
        torch.save(model.state_dict(), os.path.join(d, "sd.pt"))
        again = ff.quantize_model(copy.deepcopy(float_model))
        again.load_state_dict(torch.load(os.path.join(d, "sd.pt")))
        assert torch.equal(again(x).dequantize(), model(x).dequantize())


def test_state_dict_holds_only_tensors_under_their_parameter_names():
    # The quantizer recipes were a dict entry '<module>._ff_quantizers' among the tensors:
    # a key FastForward's state dict does not have, and a value that safetensors'
    # save_file (and anything treating every value as a tensor) rejected. They now ride in
    # the state dict's per-module metadata, which torch.save / torch.load, copy.deepcopy and
    # pickle keep, so loading into a copy still holding stubs still rebuilds them.
    import pickle

    float_model = small_model()
    x = torch.randn(5, 6)
    for model in (calibrated(copy.deepcopy(float_model)), ff.quantize(copy.deepcopy(float_model), weights=8, activations=8)):
        with ff.calibration(model):
            model(x)
        want = model(x)
        want = want.dequantize() if isinstance(want, QuantizedTensor) else want
        state = model.state_dict()
        assert all(isinstance(v, torch.Tensor) for v in state.values()), [k for k, v in state.items()
                                                                          if not isinstance(v, torch.Tensor)]
        params = {n for n, _ in model.named_parameters()} | {n for n, _ in model.named_buffers()}
        assert set(state) == params
        assert set(model.quantizer_state_dict()) == {k for k in state if "_quantizer." in k}
        with tempfile.TemporaryDirectory() as d:
            torch.save(state, os.path.join(d, "sd.pt"))
            loaded = torch.load(os.path.join(d, "sd.pt"))
            try:
                from safetensors.torch import save_file
            except ImportError:
                save_file = None
            if save_file is not None:
                save_file(state, os.path.join(d, "sd.safetensors"))
        for again in (loaded, copy.deepcopy(state), pickle.loads(pickle.dumps(state))):
            fresh = ff.quantize_model(copy.deepcopy(float_model))
            result = fresh.load_state_dict(again)
            assert not result.missing_keys and not result.unexpected_keys
            got = fresh(x)
            got = got.dequantize() if isinstance(got, QuantizedTensor) else got
            assert torch.equal(got, want)
    # a state dict saved with the recipes as entries (earlier versions) still loads
    model = calibrated(copy.deepcopy(float_model))
    old_style = dict(model.state_dict())
    for path, entry in model.state_dict()._metadata.items():
        if "_ff_quantizers" in entry:
            old_style[(path + "." if path else "") + "_ff_quantizers"] = entry["_ff_quantizers"]
    fresh = ff.quantize_model(copy.deepcopy(float_model))
    result = fresh.load_state_dict(old_style)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(fresh(x).dequantize(), model(x).dequantize())


def test_save_and_load_quantization_state():
    float_model = small_model()
    model = calibrated(copy.deepcopy(float_model))
    x = torch.randn(5, 6)
    with tempfile.TemporaryDirectory() as d:
        path = ff.save_quantization_state(model, name_or_path="org/small", cache_dir=d)
        assert path.name == "config.yaml" and path.parent.name == "main"
        assert path.parent.parent.name == "quantization-state--org--small"
        assert sorted(os.listdir(path.parent)) == ["config.yaml", "model.safetensors"]
        fresh = ff.quantize_model(copy.deepcopy(float_model))
        ff.load_quantization_state(fresh, name_or_path="org/small", cache_dir=d)
        assert torch.equal(fresh(x).dequantize(), model(x).dequantize())
        # by config path, and the overwrite policy for real quantizers
        expect(QuantizationError, ff.load_quantization_state, fresh, name_or_path=str(path))
        ff.load_quantization_state(fresh, name_or_path=str(path), overwrite_policy="overwrite")
        expect(FileNotFoundError, ff.load_quantization_state, fresh, name_or_path="other", cache_dir=d)


def _snapshot(model):
    return {k: (v.clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)) for k, v in model.state_dict().items()}, \
        [(n, type(m)) for n, m in model.named_modules()]


def _same(model, snap):
    sd, mods = snap
    now = model.state_dict()
    return mods == [(n, type(m)) for n, m in model.named_modules()] and sorted(now) == sorted(sd) and all(
        torch.equal(now[k], v) if isinstance(v, torch.Tensor) else now[k] == v for k, v in sd.items())


def test_save_and_load_a_self_contained_quantized_model():
    torch.manual_seed(5)
    float_model = torch.nn.Sequential(torch.nn.Embedding(10, 6), torch.nn.Linear(6, 6), torch.nn.ReLU(),
                                      torch.nn.Linear(6, 10))
    float_model[3].weight = float_model[0].weight  # tied: stored once
    model = ff.quantize_model(copy.deepcopy(float_model))
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(
        LinearQuantizer, num_bits=8, granularity=ff.PerChannel(0))
    ff.find_quantizers(model, "1/[quantizer:activation]").initialize(LinearQuantizer, num_bits=8, symmetric=False)
    idx = torch.tensor([[1, 2, 3], [4, 5, 9]])
    with ff.estimate_ranges(model, running_minmax):
        model(idx)
    expected = value(model(idx))
    with tempfile.TemporaryDirectory() as d:
        out = model.save_quantized_model(os.path.join(d, "artifact"), name_or_path="tiny")
        assert sorted(os.listdir(out)) == ["config.yaml", "manifest.json", "quantizer_state.safetensors",
                                           "weights.safetensors"]
        weights, _ = serialization.read_safetensors(os.path.join(out, "weights.safetensors"))
        assert "3.weight" not in weights and "0.weight" in weights  # the tied weight once
        torch.manual_seed(6)  # different float weights: everything must come from the files
        other = torch.nn.Sequential(torch.nn.Embedding(10, 6), torch.nn.Linear(6, 6), torch.nn.ReLU(),
                                    torch.nn.Linear(6, 10))
        fresh = ff.quantize_model(other)
        ff.quantization.load_quantized_model(fresh, out, expected_name="tiny")
        assert torch.equal(value(fresh(idx)), expected)
        # a different model: keys listed, nothing changed
        wrong = ff.quantize_model(torch.nn.Sequential(torch.nn.Embedding(10, 6), torch.nn.Linear(6, 7)))
        snap = _snapshot(wrong)
        e = expect(RuntimeError, ff.quantization.load_quantized_model, wrong, out, expected_name="")
        assert "unexpected" in str(e) and _same(wrong, snap)
        expect(RuntimeError, ff.quantization.load_quantized_model, ff.quantize_model(copy.deepcopy(float_model)), out,
               expected_name="another")
        # a frozen model round-trips too
        ff.freeze(model)
        frozen_dir = ff.quantization.save_quantized_model(model, os.path.join(d, "frozen"), name_or_path="tiny")
        fresh2 = ff.quantize_model(copy.deepcopy(float_model))
        ff.quantization.load_quantized_model(fresh2, frozen_dir)
        assert fresh2[1].weight is None and torch.equal(value(fresh2(idx)), expected)


def test_loading_state_of_another_model_lists_keys_and_changes_nothing():
    model = calibrated()
    torch.manual_seed(3)
    other = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Tanh() if False else torch.nn.ReLU()))
    w8a8(other)
    with ff.estimate_ranges(other, running_minmax):
        other(torch.randn(4, 6))
    with tempfile.TemporaryDirectory() as d:
        ff.save_quantization_state(model, name_or_path="m", cache_dir=d)
        target = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.ReLU()))
        ff.find_quantizers(target, "0/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=8)
        target[0].weight_quantizer.quantization_range = (-1.0, 1.0)
        snap = _snapshot(target)
        e = expect(RuntimeError, ff.load_quantization_state, target, name_or_path="m", cache_dir=d)
        text = str(e)
        assert "missing" in text and "unexpected" in text
        assert "2.0.weight_quantizer" in text  # saved, no slot in target
        assert _same(target, snap)


def test_truncated_or_corrupted_state_is_an_error_and_changes_nothing():
    float_model = small_model()
    model = calibrated(copy.deepcopy(float_model))
    with tempfile.TemporaryDirectory() as d:
        path = ff.save_quantization_state(model, name_or_path="m", cache_dir=d)
        tensors = path.parent / "model.safetensors"
        good = tensors.read_bytes()
        for bad in (good[: len(good) // 2], good[:5], good[:-1] + bytes([good[-1] ^ 0xFF]),
                    b"\x10" + good[1:]):
            tensors.write_bytes(bad)
            fresh = ff.quantize_model(copy.deepcopy(float_model))
            snap = _snapshot(fresh)
            expect((ValueError, RuntimeError), ff.load_quantization_state, fresh, name_or_path="m", cache_dir=d)
            assert _same(fresh, snap)
        # a corrupted tensor file without the checksum is still caught by the format checks
        tensors.write_bytes(good[: len(good) - 8])
        serialization.read_safetensors  # noqa: B018
        expect(ValueError, serialization.read_safetensors, tensors)
        tensors.write_bytes(good)
        path.write_text(path.read_text()[:40])
        fresh = ff.quantize_model(copy.deepcopy(float_model))
        snap = _snapshot(fresh)
        expect(ValueError, ff.load_quantization_state, fresh, name_or_path="m", cache_dir=d)
        assert _same(fresh, snap)


def test_saving_is_atomic():
    model = calibrated()
    with tempfile.TemporaryDirectory() as d:
        path = ff.save_quantization_state(model, name_or_path="m", cache_dir=d)
        before = {p: (path.parent / p).read_bytes() for p in os.listdir(path.parent)}
        real_replace = os.replace

        def failing_replace(src, dst):
            raise OSError(28, "No space left on device")

        os.replace = failing_replace
        try:
            model[0].input_quantizer.quantization_range = (-3.0, 3.0)
            expect(OSError, ff.save_quantization_state, model, name_or_path="m", cache_dir=d)
        finally:
            os.replace = real_replace
        after = {p: (path.parent / p).read_bytes() for p in os.listdir(path.parent)}
        assert after == before  # old files intact, no temporary left behind


def test_safetensors_files_are_readable_by_the_safetensors_package():
    try:
        from safetensors.torch import load_file, save_file
    except ImportError:
        skip("safetensors is not installed")
    t = {"a": torch.randn(3, 4), "b": torch.arange(5, dtype=torch.int8), "c": torch.randn(2).to(torch.bfloat16)}
    with tempfile.TemporaryDirectory() as d:
        serialization.write_safetensors(t, os.path.join(d, "x.safetensors"), {"k": "v"})
        back = load_file(os.path.join(d, "x.safetensors"))
        assert all(torch.equal(back[k], t[k]) for k in t)
        save_file(t, os.path.join(d, "y.safetensors"))
        ours, _ = serialization.read_safetensors(os.path.join(d, "y.safetensors"))
        assert all(torch.equal(ours[k], t[k]) and ours[k].dtype == t[k].dtype for k in t)


def test_quantize_with_per_module_factories_and_include():
    model = small_model()
    seen = []

    def weight_quantizer(module):
        seen.append(type(module).__name__)
        return LinearQuantizer(4 if module.out_features == 3 else 8, granularity=ff.PerChannel(0))

    ff.quantize(model, weight_quantizer=weight_quantizer, activations=None, include="{0, 3}", use_ffq=False)
    assert seen == ["QuantizedLinear", "QuantizedLinear"]
    assert model[0].weight_quantizer.num_bits == 8 and model[3].weight_quantizer.num_bits == 4
    assert isinstance(model[2][0].weight_quantizer, QuantizerStub)  # not included
    # weights are initialised from the weights: the model runs and stays close to float
    x = torch.randn(4, 6)
    assert torch.allclose(value(model(x)), small_model()(x), atol=0.2)


# --- TorchQuant pieces ------------------------------------------------------------------------


def test_qformat_quantizer_uses_power_of_two_scales_and_ste():
    q = QFormatQuantizer(8, frac_bits=4)
    x = torch.tensor([0.03, 1.5, -2.26, 100.0], requires_grad=True)
    y = q(x)
    assert torch.equal(y.raw_data.detach(), torch.tensor([0.0, 24.0, -36.0, 127.0]))
    assert torch.equal(y.dequantize().detach(), torch.tensor([0.0, 1.5, -2.25, 127 / 16]))
    y.dequantize().sum().backward()
    assert torch.equal(x.grad, torch.tensor([1.0, 1.0, 1.0, 0.0]))  # clipped: no gradient
    auto = QFormatQuantizer(8)
    expect(ValueError, auto, x)
    with ff.estimate_ranges(auto, running_minmax):
        auto(torch.tensor([-3.0, 5.0]))
    assert auto.frac_bits.tolist() == [4.0]  # 127 / 2^4 = 7.9 >= 5, 2^5 would be too small
    lo, hi = auto.quantization_range
    assert float(hi) == 127 / 16 and float(lo) == -8.0


def test_stateless_functional_quantizers():
    from fastforward.quantization.functional import affine_quantize, qfmt_quantize

    x = torch.tensor([-1.0, 0.26, 3.0], requires_grad=True)
    y = affine_quantize(x, 0.1, 10, 32)
    assert torch.allclose(y, torch.tensor([-1.0, 0.3, 2.1]))
    y.sum().backward()
    assert torch.equal(x.grad, torch.tensor([1.0, 1.0, 0.0]))
    assert torch.equal(qfmt_quantize(torch.tensor([0.3, -9.0]), 0.25, -8, 7), torch.tensor([0.25, -2.0]))


def test_qmodule_state_switches_modes():
    float_model = small_model()
    model = ff.quantize_model(copy.deepcopy(float_model))
    cfg = ff.QuantizationConfig()
    cfg.add_rule("**/[quantizer:parameter/weight]", QFormatQuantizer, num_bits=8)
    cfg.add_rule("**/[quantizer:activation]", QFormatQuantizer, num_bits=8)
    cfg.initialize(model)
    x = torch.randn(16, 6)
    ff.set_qmodule_state(model, ff.QModuleState.CALIBRATE, observer=ff.range_setting.BatchMinMax)
    out = model(x)
    assert not isinstance(out, QuantizedTensor) and torch.equal(out, float_model(x))
    ff.set_qmodule_state(model, ff.QModuleState.QUANTIZED_EVAL)
    q_out = model(x)
    assert isinstance(q_out, QuantizedTensor)
    assert float((q_out.dequantize() - float_model(x)).abs().max().detach()) < 0.2
    with ff.qmodule_state(model, ff.QModuleState.FLOAT):
        assert torch.equal(model(x), float_model(x))
        assert ff.get_qmodule_state(model) is ff.QModuleState.FLOAT
    assert ff.get_qmodule_state(model) is ff.QModuleState.QUANTIZED_EVAL
    assert torch.equal(model(x).dequantize(), q_out.dequantize())
    model.train()  # train()/eval() do not change the mode
    assert isinstance(model(x), QuantizedTensor)
    # QAT with an observer: ranges follow the data; gradients reach the weights
    ff.set_qmodule_state(model, ff.QModuleState.QUANT_AWARE_TRAIN, observer=ff.range_setting.ExpAvgMinMax(0.5))
    before = model[0].input_quantizer.frac_bits.clone()
    model(x * 100).dequantize().sum().backward()
    assert model[0].weight.grad is not None and float(model[0].weight.grad.abs().sum()) > 0
    assert not torch.equal(model[0].input_quantizer.frac_bits, before)


# --- attention ---------------------------------------------------------------------------------


def _reference_attention(q, k, v, attn_mask=None, is_causal=False, scale=None):
    """Attention written out in float64 (the definition torch documents)."""
    q, k, v = q.double(), k.double(), v.double()
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else q.size(-1) ** -0.5)
    if is_causal:
        s = s.masked_fill(~torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).tril(), float("-inf"))
    if attn_mask is not None:
        s = s.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else s + attn_mask.double()
    return (torch.softmax(s, -1) @ v).float()


def test_scaled_dot_product_attention_quantizes_its_intermediates():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 6, 4), torch.randn(2, 3, 6, 4)
    mask = torch.rand(5, 6) > 0.3
    mask[:, 0] = True
    for kwargs in ({}, {"is_causal": True}, {"attn_mask": mask}, {"attn_mask": mask.float() * -2, "scale": 0.3}):
        with ff.strict_quantization(False):
            got = functional.scaled_dot_product_attention(q, k, v, sdpa_torch_fallback=False, **kwargs)
            fused = functional.scaled_dot_product_attention(q, k, v, **kwargs)
        assert torch.allclose(got, _reference_attention(q, k, v, **kwargs), atol=1e-5), kwargs
        if hasattr(F, "scaled_dot_product_attention"):
            # without active intermediate quantizers torch's kernel runs: bitwise torch
            assert torch.equal(fused, F.scaled_dot_product_attention(q, k, v, **kwargs)), kwargs
            assert torch.allclose(got, fused, atol=1e-5), kwargs
    weights = LinearQuantizer(8, symmetric=False)
    weights.quantization_range = (0.0, 1.0)
    with ff.strict_quantization(False):
        got = functional.scaled_dot_product_attention(q, k, v, attn_weights_quantizer=weights)
    reference = _reference_attention(q, k, v)
    assert not torch.allclose(got, reference, atol=1e-5)  # the weights were quantized ...
    assert torch.allclose(got, reference, atol=0.05)  # ... onto a 1/255 grid
    with ff.strict_quantization(True):
        expect(QuantizationError, functional.scaled_dot_product_attention, q, k, v)
    expect(TypeError, functional.scaled_dot_product_attention, q, k, v, strict_quantization=False, bogus=1)
    with ff.sdpa_upcast(torch.float64):
        with ff.strict_quantization(False):
            half = functional.scaled_dot_product_attention(q.bfloat16(), k.bfloat16(), v.bfloat16(),
                                                           sdpa_torch_fallback=False)
    assert half.dtype == torch.bfloat16
    assert torch.allclose(half.float(), reference, atol=3e-2)
    # ffq rewrites torch's call into this op (it is in the operator table)
    assert "scaled_dot_product_attention" in functional.OPS



def test_filter_quantized_module_map_finds_classes_a_later_one_replaced():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        class MyQuantizedLinear(QuantizedModule, torch.nn.Linear):
            pass

    # the last class defined for a float class wins in the global map ...
    assert ff.quantized_module_map()[torch.nn.Linear] is MyQuantizedLinear
    # ... and restricting the map to fastforward's own classes brings the built-in back
    with ff.nn.quantized_module.filter_quantized_module_map(ff.nn):
        assert ff.quantized_module_map()[torch.nn.Linear] is ff.nn.QuantizedLinear
        model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(2, 2)))
        assert type(model[0]) is ff.nn.QuantizedLinear
    with ff.nn.quantized_module.filter_quantized_module_map(__name__):
        assert ff.quantized_module_map() == {torch.nn.Linear: MyQuantizedLinear}


def test_annotate_operator_metadata_tags_quantizers_with_neighbouring_ops():
    torch.manual_seed(0)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)))
    model[0].weight_quantizer = LinearQuantizer(8)  # lazy, never calibrated: must not run quantized
    strict = ff.get_strict_quantization()
    out = ff.annotate_operator_metadata(model, torch.randn(2, 4))
    assert type(out) is torch.Tensor and out.shape == (2, 2)

    def names(query):
        return sorted(r.full_name for r in ff.find_quantizers(model, query))

    assert names("**/[quantizer:before/relu]") == ["0.output_quantizer", "1.input_quantizer"]
    assert names("**/[quantizer:after/relu]") == ["1.output_quantizer", "2.input_quantizer"]
    assert names("**/[quantizer:after/linear]") == ["0.output_quantizer", "1.input_quantizer", "2.output_quantizer"]
    assert "0.weight_quantizer" in names("**/[quantizer:parameter/weight, before/linear]")
    # nothing is left behind: no hooks, overrides or flag changes
    assert ff.get_strict_quantization() is strict
    assert not list(model[0].weight_quantizer.overrides) and not model[0].weight_quantizer._forward_hooks


def test_quantizers_and_granularities_dump_to_yaml_and_load_back():
    try:
        import yaml
    except ImportError:
        skip("PyYAML is not installed")
    from fastforward.serialization import initargs, yamlable

    q = LinearQuantizer(4, symmetric=False, granularity=ff.PerChannel(1), quantized_dtype=torch.int8)
    assert initargs(q) == ((4,), {"symmetric": False, "granularity": ff.PerChannel(1), "quantized_dtype": torch.int8})
    text = yaml.safe_dump({"q": q, "g": ff.PerBlock(1, 2), "stub": QuantizerStub(weight_quantizer=True)})
    assert "!ff.obj" in text and "name: fastforward.nn.linear_quantizer.LinearQuantizer" in text
    assert "!ff.dtype" in text and "python/tuple" not in text
    for loader in (yaml.SafeLoader, yaml.Loader):
        back = yaml.load(text, Loader=loader)
        assert type(back["q"]) is LinearQuantizer and back["q"].num_bits == 4 and not back["q"].symmetric
        assert back["q"].granularity == ff.PerChannel(1) and back["q"].quantized_dtype is torch.int8
        assert back["g"] == ff.PerBlock(1, 2) and back["g"].block_dims == (1,)
        assert back["stub"].quant_metadata.weight_quantizer
    # a subclass of a yamlable class records its own constructor's arguments
    class Scaled(LinearQuantizer):
        def __init__(self, bits, factor=2.0):
            super().__init__(bits)
            self.factor = factor

    assert initargs(Scaled(8, factor=3.0)) == ((8,), {"factor": 3.0})
    assert "factor: 3.0" in yaml.dump(Scaled(8, factor=3.0))
    # safe_load only rebuilds yamlable classes of modules already imported
    bad = text.replace("fastforward.nn.linear_quantizer.LinearQuantizer", "os.system")
    expect(ValueError, yaml.safe_load, bad)

    @yamlable
    class Plain:
        def __init__(self, a, *, b=1):
            self.a, self.b = a, b

    assert initargs(Plain([1, 2], b=3)) == (([1, 2],), {"b": 3})


class Pow2Quantizer(ff.nn.Quantizer):
    """A user's quantizer (module level, so saved state can name it): scale 2**exponent."""

    def __init__(self, num_bits, *, exponent=-3):
        super().__init__()
        self.num_bits = num_bits
        self.exponent = torch.nn.Parameter(torch.tensor(float(exponent)))

    def quantize(self, data):
        return ff.quantization.affine.quantize_per_tensor(data, 2.0 ** self.exponent, None, self.num_bits)


def test_a_users_quantizer_class_saves_and_loads():
    import tempfile

    def model():
        torch.manual_seed(0)
        return ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(4, 3)))

    original = model()
    original[0].weight_quantizer = Pow2Quantizer(6, exponent=-4)
    with torch.no_grad():
        original[0].weight_quantizer.exponent.fill_(-5.0)  # trained away from the constructor's value
    x = torch.randn(2, 4)
    with ff.strict_quantization(False):
        expected = original(x)
    root = tempfile.mkdtemp()
    config_path = ff.save_quantization_state(original, name_or_path="pow2", cache_dir=root)
    import yaml

    text = config_path.read_text()
    assert re.search(r"^  0\.weight_quantizer: !ff\.obj\n    name: \S*\bPow2Quantizer\n", text, re.M), text
    config = yaml.load(text, Loader=yaml.SafeLoader)  # the class is imported: safe_load builds it
    assert config["version"] == "1.0" and config["name_or_path"] == "pow2"
    assert config["fastforward_version"] == ff.__version__ and "transformers_version" in config
    saved = config["quantizers"]["0.weight_quantizer"]
    assert type(saved) is Pow2Quantizer and saved.num_bits == 6  # parameters are in the tensor file
    copies = [model(), model()]
    ff.load_quantization_state(copies[0], name_or_path="pow2", cache_dir=root)
    result = copies[1].load_state_dict(original.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    for restored in copies:
        q = restored[0].weight_quantizer
        assert type(q) is Pow2Quantizer and q.num_bits == 6 and float(q.exponent.detach()) == -5.0
        assert q.quant_metadata.weight_quantizer  # the slot's tags, as for any replacement
        with ff.strict_quantization(False):
            assert torch.equal(restored(x), expected)


def test_quantization_state_written_as_json_by_earlier_versions_still_loads():
    import json
    import tempfile

    float_model = small_model()
    model = calibrated(copy.deepcopy(float_model))
    model[2][0].output_quantizer = model[0].output_quantizer  # shared: written once
    x = torch.randn(5, 6)
    expected = model(x).dequantize()
    root = tempfile.mkdtemp()
    path = ff.save_quantization_state(model, name_or_path="old", cache_dir=root)
    text = path.read_text()
    distinct = {id(q) for _, q in named_quantizers(model)}
    assert text.count(": !ff.obj\n    name: fastforward.nn.linear_quantizer.LinearQuantizer\n") == len(distinct), text
    assert "*id" not in text and "&id" not in text
    assert "  2.0.output_quantizer:\n    shared_with: 0.output_quantizer\n" in text, text
    # the layout earlier versions wrote: JSON, one recipe mapping per quantizer
    import yaml

    config = yaml.load(text, Loader=yaml.SafeLoader)
    config["quantizers"] = {p: e if isinstance(e, dict) else serialization.quantizer_recipe(e)
                            for p, e in config["quantizers"].items()}
    path.write_text(json.dumps(config, indent=2, sort_keys=True))
    fresh = ff.quantize_model(copy.deepcopy(float_model))
    ff.load_quantization_state(fresh, name_or_path="old", cache_dir=root)
    assert fresh[2][0].output_quantizer is fresh[0].output_quantizer
    assert torch.equal(fresh(x).dequantize(), expected)
    # a config that is neither JSON nor YAML is an error naming the file; the model is unchanged
    path.write_text("quantizers: [unclosed\n")
    e = expect(ValueError, ff.load_quantization_state, ff.quantize_model(copy.deepcopy(float_model)),
               name_or_path="old", cache_dir=root)
    assert "corrupted config" in str(e) and str(path) in str(e)


def test_gptq_changes_reach_a_weight_quantized_before():
    # Outside autograd a quantizer keeps its last quantized parameter while the parameter is
    # unchanged (by version counter); GPTQ's write must move it, or the layer keeps
    # computing with the weight as it was before GPTQ.
    torch.manual_seed(1)
    layer = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(16, 8)))[0]
    layer.weight_quantizer = LinearQuantizer(4, granularity=ff.PerChannel(0), allow_one_sided=False)
    w = layer.weight.detach()
    layer.weight_quantizer.quantization_range = (w.min(1).values, w.max(1).values)
    with torch.no_grad():
        before = layer.weight_quantizer(layer.weight).dequantize()
    ff.quantization.gptq(layer, [torch.randn(32, 16) for _ in range(2)], block_size=8)
    with torch.no_grad():
        after = layer.weight_quantizer(layer.weight).dequantize()
        fresh = layer.weight_quantizer(layer.weight.detach().clone()).dequantize()
    assert torch.equal(after, fresh) and not torch.equal(after, before)


def test_gptq_beats_rounding_to_nearest_on_correlated_inputs():
    torch.manual_seed(0)
    mix = torch.randn(64, 64)
    inputs = [torch.randn(64, 64) @ mix * 0.2 for _ in range(4)]  # correlated features
    layer = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(64, 32)))[0]
    float_weight = layer.weight.detach().clone()
    rtn = LinearQuantizer(3, granularity=ff.PerChannel(0), allow_one_sided=False)
    rtn.quantization_range = (float_weight.min(1).values, float_weight.max(1).values)
    layer.weight_quantizer = LinearQuantizer(3, granularity=ff.PerChannel(0), allow_one_sided=False)
    ff.quantization.gptq(layer, inputs, block_size=16)
    with torch.no_grad():
        gptq_weight = layer.weight_quantizer(layer.weight).dequantize()
        rtn_weight = rtn(float_weight).dequantize()

        def error(w):
            return sum(float((x @ w.t() - x @ float_weight.t()).pow(2).mean()) for x in inputs)

        # the weight was rewritten onto the quantizer's grid (range set from the weight first)
        assert torch.equal(gptq_weight, layer.weight.detach())
        assert error(gptq_weight) < 0.9 * error(rtn_weight), (error(gptq_weight), error(rtn_weight))
    layer.weight_quantizer = QuantizerStub()
    expect(TypeError, ff.quantization.gptq, layer, inputs)
    layer.weight_quantizer = LinearQuantizer(8)
    expect(ValueError, ff.quantization.gptq, layer, [])


def test_layerwise_gptq_runs_layer_after_layer_on_the_optimised_model():
    import copy as copying

    torch.manual_seed(0)
    mix = torch.randn(32, 32)
    data = [torch.randn(64, 32) @ mix * 0.3 for _ in range(4)]
    float_model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 16))

    def quantized():
        model = ff.quantize_model(copying.deepcopy(float_model))
        ff.QuantizationConfig().add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=3,
                                         granularity=ff.PerChannel(0), allow_one_sided=False).initialize(model)
        return model

    optimised, rounded = quantized(), quantized()
    calls = []

    def recording_gptq(layer, inputs, **kwargs):
        calls.append((layer, len(inputs), tuple(inputs[0].shape)))
        ff.quantization.gptq(layer, inputs, **kwargs)

    ff.layerwise_optimize(optimised, data, [ff.orchestration.AlgorithmSpec(recording_gptq, ff.nn.QuantizedLinear)],
                          block_size=16)
    # in execution order, each on its own inputs over every batch (the second layer's are 64 wide)
    assert [(c[0], c[1], c[2]) for c in calls] == [(optimised[0], 4, (64, 32)), (optimised[2], 4, (64, 64))]
    ff.layerwise_optimize(rounded, data, ff.quantization.gptq, block_size=16)  # the registered targets
    for layer in (rounded[0], rounded[2]):  # then start again from rounding to nearest
        layer.weight.data.copy_(float_model[0 if layer is rounded[0] else 2].weight)
        w = layer.weight.detach()
        layer.weight_quantizer.quantization_range = (w.min(1).values, w.max(1).values)
    with torch.no_grad(), ff.strict_quantization(False):
        def error(model):
            return sum(float((model(x) - float_model(x)).pow(2).mean()) for x in data)

        assert error(optimised) < 0.7 * error(rounded), (error(optimised), error(rounded))
    expect(TypeError, ff.layerwise_optimize, optimised, data,
           [ff.orchestration.AlgorithmSpec(recording_gptq, ff.nn.QuantizedLinear)], targets=ff.nn.QuantizedLinear)
    assert ff.orchestration.trace(optimised, data[0], [optimised[2], optimised[0]]) == [optimised[0], optimised[2]]

# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals()))

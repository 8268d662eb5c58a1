"""Conformance of the workflow API with the runtime spec (docs §6-§12 of
runtime-spec.md): mpath selectors built in code, Quanto's names, freezing, conversion
through a class's own quantize_children, flag decorators.

Run with any Python that has torch (1.13 or 2.x)::

    python3 tests/python/test_spec_workflow.py
    /usr/bin/python3 tests/python/test_spec_workflow.py

Ends with "N passed, M failed[, K skipped]"; exits nonzero when a test failed.
"""

import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward import flags, mpath  # noqa: E402
from fastforward.nn import LinearQuantizer, QuantizedModule, QuantizerStub  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from plain_runner import isolation, run  # noqa: E402


def names(query, root):
    return sorted(n for n, _ in mpath.search(query, root).named_modules())


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)
        self.act = torch.nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


# --- mpath --------------------------------------------------------------------------------------


def test_a_string_joined_to_a_selector_resolves_class_names_where_it_is_written():
    # Selector / "..." parsed the string with no names at all: every [cls:...] in it was
    # "not defined where the query was made", whatever the caller had imported.
    model = torch.nn.Sequential(Block(), torch.nn.ModuleList([Block()]))
    Local = torch.nn.ReLU  # noqa: N806, F841 - named in the queries below
    assert names(mpath.root / "[cls:Block]", model) == ["0", "1.0"]
    assert names(mpath.query("**") / "[cls:Local]", model) == ["0.act", "1.0.act"]
    assert names("0" / mpath.query("[cls:Local]"), model) == ["0.act"]
    assert names(mpath.query("*/[cls:Block]") | "0/[cls:Local]", model) == ["0.act", "1.0"]


def test_queries_in_comprehensions_see_the_enclosing_function_s_names():
    # Before Python 3.12 a comprehension or generator expression runs in a frame of its own
    # holding only its loop variables, so [cls:Local] of a class local to the function was
    # "not defined where the query was made" (3.12 inlines comprehensions: FastForward's
    # tests written there see the function's names).
    class Local(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

    models = [torch.nn.Sequential(Local(), torch.nn.ReLU()), torch.nn.Sequential(torch.nn.ReLU(), Local())]
    assert [mpath.search("[cls:Local]", m)[0].full_name for m in models] == ["0", "1"]
    assert {i: len(mpath.search("*/[cls:Local]/fc", m)) for i, m in enumerate(models)} == {0: 0, 1: 0}
    assert sorted(r.full_name for m in models for r in mpath.search("[cls:Local]/fc", m)) == ["0.fc", "1.fc"]
    assert all(len(mpath.search(mpath.query("*") & "[cls:Local]", m)) == 1 for m in models)
    for m in models:
        ff.quantize_model(m, extra_conversion=ff.surrogate_quantized_modules(m))
    found = [len(ff.find_quantizers(m, "[cls:Local]/fc/[quantizer:parameter/weight]")) for m in models]
    assert found == [1, 1]
    rules = [ff.QuantizationConfig().add_rule("[cls:Local]/fc/weight_quantizer", LinearQuantizer, num_bits=4)
             for _ in models]
    for rule, m in zip(rules, models):
        rule.initialize(m)
    assert [type(m[i].fc.weight_quantizer).__name__ for i, m in ((0, models[0]), (1, models[1]))] == [
        "LinearQuantizer", "LinearQuantizer"]
    # the comprehension's own names still win over the function's
    fc = "not a class"  # noqa: F841 - shadowed below
    assert [mpath.search("[cls:fc]", m)[0].full_name for fc in (Local,) for m in models[:1]] == ["0"]

    # a generator expression consumed by another function: that function's names only fill
    # in what the expression's own scope lacks (the module's Block wins over its local)
    def consume(generator):
        Block = torch.nn.ReLU  # noqa: N806, F841 - a local named like the module's class
        return list(generator)

    assert consume(len(mpath.search("[cls:Block]", m)) for m in models) == [0, 0]


def test_query_for_module_selects_modules_whose_names_the_syntax_cannot_spell():
    # A ModuleDict key may be any text without a '.'; query_for_module parsed the path as a
    # query and raised MPathParseError for 'my-layer'.
    inner = torch.nn.ModuleDict({"x y": torch.nn.Tanh()})
    root = torch.nn.ModuleDict({"my-layer": torch.nn.ReLU(), "block": inner})
    for module, path in ((root["my-layer"], "my-layer"), (inner["x y"], "block.x y"), (inner, "block")):
        found = mpath.search(mpath.query_for_module(module, root), root)
        assert [(n, m) for n, m in found.named_modules()] == [(path, module)]
    try:
        mpath.query_for_module(torch.nn.ReLU(), root)
    except ValueError:
        pass
    else:
        raise AssertionError("a module outside the root has no query")


def test_collections_are_sequences_and_parents_pair_each_result_with_its_parent():
    # FastForward's MPathCollection is a Sequence (in, index, count, reversed) and parents()
    # yields (parent, module) pairs; update_module returns the result for the replacement.
    model = torch.nn.Sequential(Block(), Block())
    found = mpath.search("*/fc", model)
    assert isinstance(found, __import__("collections").abc.Sequence)
    first = found[0]
    assert first in found and found.index(first) == 0 and found.count(first) == 1
    assert [r.full_name for r in reversed(found)] == [r.full_name for r in found][::-1]
    assert sorted((id(p), id(m)) for p, m in found.parents()) == sorted(
        (id(model[i]), id(model[i].fc)) for i in (0, 1))
    replacement = torch.nn.Identity()
    updated = first.update_module(replacement)
    assert updated.module is replacement and updated.full_name == first.full_name
    assert getattr(first.parent, first.parent_attribute) is replacement


def test_names_of_any_script_are_path_fragments():
    # Python attribute names may use any letters; the parser took only ASCII ones.
    model = torch.nn.Module()
    setattr(model, "schicht_ä", torch.nn.ReLU())
    setattr(model, "层", torch.nn.Tanh())
    assert names("schicht_ä", model) == ["schicht_ä"]
    assert names("{层, schicht_ä}", model) == sorted(["层", "schicht_ä"])
    aliases = mpath.aliases(ebene=mpath.query("层"))
    assert [n for n, _ in mpath.search("&ebene", model, aliases=aliases).named_modules()] == ["层"]


def test_queries_from_a_users_module_named_like_fastforward_see_its_names():
    # The caller's frame is the first outside the fastforward package; a module whose name
    # merely starts with "fastforward" (fastforward_models) was taken for part of it, and its
    # own names were not looked at.
    user = types.ModuleType("fastforward_user_models")
    user.__dict__.update(torch=torch, mpath=mpath, ff=ff)
    exec(compile(
        "class Mine(torch.nn.Linear):\n"
        "    pass\n"
        "def select(model):\n"
        "    return sorted(n for n, _ in mpath.search('**/[cls:Mine]', model).named_modules())\n",
        "fastforward_user_models.py", "exec"), user.__dict__)
    model = torch.nn.Sequential(user.Mine(2, 2), torch.nn.Linear(2, 2))
    assert user.select(model) == ["0"]


# --- find_quantizers, QuantizerCollection, QuantizationConfig -----------------------------------


def test_a_configuration_with_rules_some_models_lack_applies_the_others():
    # Neither the spec nor FastForward makes a rule that selects nothing an error; one
    # configuration for several models (here: bias rules for a model without biases) raised
    # QuantizationError and configured nothing. Now it warns and applies the other rules.
    import warnings

    from fastforward.quantization import QuantizerCollection

    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(4, 4, bias=False), torch.nn.ReLU()))
    config = (ff.QuantizationConfig()
              .add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8)
              .add_rule("**/[quantizer:parameter/bias]", LinearQuantizer, num_bits=16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config.initialize(model)
        empty = ff.find_quantizers(model, "**/[quantizer:parameter/bias]").initialize(LinearQuantizer, num_bits=8)
    assert len(caught) == 2 and all("parameter/bias" in str(w.message) for w in caught)
    assert isinstance(model[0].weight_quantizer, LinearQuantizer) and model[0].bias_quantizer is None
    assert len(empty) == 0
    # a collection made from any search results holds the quantizers among them
    everything = mpath.search("**", model)
    held = QuantizerCollection(model, everything)
    assert len(held) == len(ff.find_quantizers(model, "**")) == 5
    assert all(isinstance(r.module, ff.nn.Quantizer) for r in held)
    try:
        held.append(everything[0])
    except TypeError:
        pass
    else:
        raise AssertionError("a Linear appended to a QuantizerCollection")


def test_quantization_config_repr_names_each_rule_and_its_factory():
    # An empty configuration printed an empty pair of lines, a factory function as
    # "name()", and a subclass as "QuantizationConfig".
    class MyConfig(ff.QuantizationConfig):
        pass

    def per_slot(name, current):
        return LinearQuantizer(num_bits=4)

    assert repr(ff.QuantizationConfig()) == "QuantizationConfig()"
    config = MyConfig().add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=8)
    config.add_rule("0/[quantizer:activation]", per_slot)
    assert repr(config).splitlines() == [
        "MyConfig(",
        "    **/[quantizer:parameter/weight] => LinearQuantizer(num_bits=8)",
        "    0/[quantizer:activation] => per_slot(<module_name>, <current_quantizer>)",
        ")",
    ], repr(config)


# --- Quanto's names ------------------------------------------------------------------------------


def test_freeze_is_the_function_in_the_quantization_package_too():
    # fastforward.quantization.freeze was the submodule freeze.py (its import bound the
    # package attribute): ff.quantization.freeze(model) raised "'module' object is not
    # callable".
    from fastforward.quantization import freeze
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    assert freeze is ff.freeze and ff.quantization.freeze is ff.freeze
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 4))
    ff.quantize(model, weights=8)
    x = torch.randn(3, 8)
    before = model(x)
    ff.quantization.freeze(model)
    assert isinstance(model[0].weight_quantizer, FrozenWeightQuantizer)
    after = model(x)
    value = (lambda t: t.dequantize() if isinstance(t, QuantizedTensor) else t)
    assert torch.equal(value(before), value(after))


def test_quantos_flow_with_weights_only_calibrates_nothing_and_goes_on():
    # Quanto's README: quantize(model) (weights only), then, optionally, `with calibration():
    # model(samples)`, training on model(data).dequantize(), freeze(model). ff.calibration on
    # a model without activation quantizers raised QuantizationError; it now warns and runs
    # the block.
    import warnings

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ff.quantize(model)
    x = torch.randn(4, 8)
    before = model(x)
    ran = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ff.calibration(model):
            ran.append(model(x))
    assert len(ran) == 1 and torch.equal(ran[0], before)
    assert [w.category for w in caught] == [RuntimeWarning] and "nothing to calibrate" in str(caught[0].message)
    assert caught[0].filename == __file__
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    optimizer.step()
    ff.freeze(model)
    assert model(x).dequantize().shape == (4, 3)


def test_enable_quantization_leaves_uncalibrated_activations_of_quantize_passing_through():
    # fastforward.quantize holds activation quantizers back until calibrated (R1) with a
    # DisableQuantizationOverride; enable_quantization switched that one on too, so
    # `with ff.enable_quantization(model)` (also inside disable_quantization) on a model not
    # yet calibrated raised "uninitialized" at the first activation quantizer.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
    ff.quantize(model, weights=8, activations=8)
    x = torch.randn(2, 4)
    before = model(x)
    with ff.enable_quantization(model):
        assert torch.equal(model(x), before)
    with ff.disable_quantization(model):
        plain = model(x)
        with ff.enable_quantization(model):
            assert torch.equal(model(x), before)
    assert not torch.equal(plain, before)  # weights quantized only outside disable_quantization
    with ff.calibration(model):
        model(x)
    with ff.disable_quantization(model):
        with ff.enable_quantization(model):
            assert isinstance(model(x), QuantizedTensor)
        assert torch.equal(model(x), plain)


# --- freeze_parameters --------------------------------------------------------------------------


def test_freeze_parameters_pass_computes_what_the_frozen_model_computes():
    # The freezing pass handed each quantizer's quantized value on; FastForward hands on the
    # float input (a parameter now holding its quantized values). So with activation
    # quantizers the pass quantized activations the frozen model (all stubs) no longer does.
    torch.manual_seed(0)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)))
    config = ff.QuantizationConfig()
    config.add_rule("**/[quantizer:parameter/weight]", LinearQuantizer, num_bits=4, granularity=ff.PerChannel(0))
    config.add_rule("**/[quantizer:activation]", LinearQuantizer, num_bits=3, symmetric=False)
    config.initialize(model)
    x = torch.randn(16, 6)
    with ff.estimate_ranges(model, ff.range_setting.running_minmax):
        model(x)
    quantized = model[0].weight_quantizer(model[0].weight).dequantize()
    with ff.quantization.freeze_parameters(model):
        during = model(x)
    assert type(during) is torch.Tensor
    assert torch.equal(model[0].weight.detach(), quantized)  # the weight holds its quantized values
    assert all(isinstance(q, QuantizerStub) for _, q in model.named_quantizers(skip_stubs=False))
    after = model(x)
    assert torch.equal(during, after), (during - after).abs().max()
    # the float computation with the frozen weights, step by step
    hidden = torch.relu(torch.nn.functional.linear(x, model[0].weight, model[0].bias))
    assert torch.equal(after, torch.nn.functional.linear(hidden, model[2].weight, model[2].bias))


def test_freeze_parameters_without_removing_quantizers_keeps_them_and_their_values():
    torch.manual_seed(1)
    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(4, 4)))
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(LinearQuantizer, num_bits=4)
    ff.find_quantizers(model, "**/[quantizer:activation/output]").initialize(LinearQuantizer, num_bits=4)
    model[0].weight_quantizer.quantization_range = (-0.5, 0.5)
    model[0].output_quantizer.quantization_range = (-1.0, 1.0)
    x = torch.randn(5, 4)
    with ff.quantization.freeze_parameters(model, remove_quantizers=False):
        during = model(x)
    assert isinstance(model[0].weight_quantizer, LinearQuantizer)
    assert isinstance(model[0].output_quantizer, LinearQuantizer)
    assert list(model[0].weight_quantizer.overrides) == []  # the overrides come off at exit
    assert torch.equal(during, torch.nn.functional.linear(x, model[0].weight, model[0].bias))


# --- saving and loading --------------------------------------------------------------------------


def test_loading_a_quantizer_onto_a_layer_is_a_value_error_and_changes_nothing():
    # The spec: a saved path that is not a quantizer in the model is a ValueError (a path the
    # model lacks stays a RuntimeError, with the missing and unexpected lists). Both were the
    # RuntimeError "does not fit".
    import tempfile

    from fastforward.quantization import load_quantization_state, save_quantization_state

    quantizer = LinearQuantizer(num_bits=8)
    quantizer.quantization_range = (-1.0, 1.0)
    saved = torch.nn.Sequential(quantizer, torch.nn.ReLU())
    with tempfile.TemporaryDirectory() as cache:
        save_quantization_state(saved, name_or_path="q", cache_dir=cache)
        target = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
        try:
            load_quantization_state(target, name_or_path="q", cache_dir=cache)
        except ValueError as e:
            assert "'0'" in str(e) and "not a quantizer" in str(e), str(e)
        else:
            raise AssertionError("a quantizer loaded onto a Linear")
        assert type(target[0]) is torch.nn.Linear
        try:
            load_quantization_state(torch.nn.Sequential(), name_or_path="q", cache_dir=cache)
        except RuntimeError as e:
            assert not isinstance(e, ValueError) and "unexpected" in str(e)
        else:
            raise AssertionError("a quantizer loaded where the model has nothing")
        stub_model = torch.nn.Sequential(QuantizerStub(), torch.nn.ReLU())
        load_quantization_state(stub_model, name_or_path="q", cache_dir=cache)
        assert isinstance(stub_model[0], LinearQuantizer)
        assert torch.equal(stub_model[0].scale, quantizer.scale)


def test_a_file_in_the_way_of_a_save_is_a_value_error_and_a_config_path_loads():
    # The spec: a path that is an existing file is a ValueError. A file where a parent
    # directory of the state should go raised NotADirectoryError (FileExistsError for the
    # artifact's own directory in some layouts). And name_or_path may be the path of the
    # config file, whatever it is called (it had to end in ".yaml").
    import shutil
    import tempfile

    from fastforward.quantization import load_quantization_state, save_quantization_state, save_quantized_model

    quantizer = LinearQuantizer(num_bits=8)
    quantizer.quantization_range = (-1.0, 1.0)
    model = torch.nn.Sequential(quantizer)
    with tempfile.TemporaryDirectory() as tmp:
        blocker = os.path.join(tmp, "file")
        with open(blocker, "w") as f:
            f.write("x")
        for call in (lambda: save_quantization_state(model, name_or_path="m", cache_dir=blocker),
                     lambda: save_quantized_model(model, os.path.join(blocker, "artifact"), name_or_path="m"),
                     lambda: save_quantized_model(model, blocker, name_or_path="m")):
            try:
                call()
            except ValueError as e:
                assert "file" in str(e), str(e)
            else:
                raise AssertionError("saved through a file")
        config = save_quantization_state(model, name_or_path="m", cache_dir=os.path.join(tmp, "cache"))
        renamed = os.path.join(tmp, "state.cfg")
        shutil.copy(str(config), renamed)
        shutil.copy(os.path.join(os.path.dirname(str(config)), "model.safetensors"), tmp)
        fresh = torch.nn.Sequential(QuantizerStub())
        load_quantization_state(fresh, name_or_path=renamed)
        assert isinstance(fresh[0], LinearQuantizer) and torch.equal(fresh[0].scale, quantizer.scale)


def test_the_tensor_file_names_each_quantizer_s_tensors_in_its_metadata():
    # The spec's format: the safetensors metadata maps each quantizer path to
    # "param=tensor_key,...", a shared quantizer stored once under its smallest path, lazy
    # parameters as "::lazy". The metadata held only the format and the version.
    import tempfile

    from fastforward.quantization import save_quantization_state, save_quantized_model
    from fastforward.quantization.serialization import read_safetensors

    model = ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)))
    shared = LinearQuantizer(num_bits=8, symmetric=False)
    shared.quantization_range = (-1.0, 1.0)
    model[1].output_quantizer = shared
    model[0].output_quantizer = shared
    model[1].weight_quantizer = LinearQuantizer(num_bits=8, symmetric=False)  # lazy
    with tempfile.TemporaryDirectory() as tmp:
        config = save_quantization_state(model, name_or_path="m", cache_dir=tmp, allow_lazy_params=True)
        artifact = save_quantized_model(model, os.path.join(tmp, "artifact"), name_or_path="m",
                                        allow_lazy_params=True)
        for tensor_file in (os.path.join(os.path.dirname(str(config)), "model.safetensors"),
                            os.path.join(str(artifact), "quantizer_state.safetensors")):
            tensors, metadata = read_safetensors(tensor_file)
            assert sorted(tensors) == ["0.output_quantizer.offset", "0.output_quantizer.scale"]
            stored = "offset=0.output_quantizer.offset,scale=0.output_quantizer.scale"
            assert metadata["0.output_quantizer"] == stored and metadata["1.output_quantizer"] == stored
            assert sorted(metadata["1.weight_quantizer"].split(",")) == [
                "offset=1.weight_quantizer.offset::lazy", "scale=1.weight_quantizer.scale::lazy"]


# --- quantize_model ------------------------------------------------------------------------------


def test_a_class_replacing_a_built_in_quantized_layer_warns_and_wins():
    # The spec: when several classes quantize one float class the last created wins, with a
    # warning. Replacing a built-in layer (QuantizedLinear for nn.Linear) was silent.
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class MyQuantizedLinear(QuantizedModule, torch.nn.Linear):
            pass

    assert [w.category for w in caught] == [RuntimeWarning]
    assert "MyQuantizedLinear replaces QuantizedLinear" in str(caught[0].message)
    assert caught[0].filename == __file__
    assert ff.quantized_module_map()[torch.nn.Linear] is MyQuantizedLinear
    assert type(ff.quantize_model(torch.nn.Sequential(torch.nn.Linear(2, 2)))[0]) is MyQuantizedLinear
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class MyQuantizedLinear(QuantizedModule, torch.nn.Linear):  # noqa: F811 - the same class again
            pass

    assert caught == []  # a class of the same name (code run again) replaces its namesake quietly


def test_conversion_recurses_through_a_class_s_own_quantize_children():
    # quantize_model converted children itself and never called quantize_children, so a class
    # that decides how its children are converted (here: keep one float) was ignored.
    calls = []

    class Pair(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.keep = torch.nn.Linear(2, 2)
            self.convert = torch.nn.Linear(2, 2)

    class QuantizedPair(QuantizedModule, Pair, include_in_module_map=False):
        def quantize_children(self, extra_conversion=None, skip_quantized_modules=False, *,
                              ignore_global_module_map=False):
            calls.append((skip_quantized_modules, ignore_global_module_map))
            ff.quantize_model(self.convert, extra_conversion=extra_conversion,
                              skip_quantized_modules=skip_quantized_modules,
                              ignore_global_module_map=ignore_global_module_map)

    model = torch.nn.Sequential(Pair())
    ff.quantize_model(model, extra_conversion={Pair: QuantizedPair})
    assert type(model[0]) is QuantizedPair and len(calls) == 1
    assert type(model[0].keep) is torch.nn.Linear
    assert type(model[0].convert) is ff.nn.QuantizedLinear
    assert len(ff.find_quantizers(model, "**/[quantizer:parameter/weight]")) == 1
    # an override with FastForward's older signature (no ignore_global_module_map)
    class QuantizedPairOld(QuantizedModule, Pair, include_in_module_map=False):
        def quantize_children(self, extra_conversion=None, skip_quantized_modules=False):
            calls.append("old")
            ff.quantize_model(self.keep, extra_conversion=extra_conversion)

    model = torch.nn.Sequential(Pair())
    ff.quantize_model(model, extra_conversion={Pair: QuantizedPairOld})
    assert calls[-1] == "old" and type(model[0].keep) is ff.nn.QuantizedLinear
    assert type(model[0].convert) is torch.nn.Linear
    # a class without its own quantize_children: every child converted as before
    plain = ff.quantize_model(torch.nn.Sequential(Block()), extra_conversion={Block: type(
        "QuantizedBlockForTest", (QuantizedModule, Block), {}, include_in_module_map=False)})
    assert type(plain[0].fc) is ff.nn.QuantizedLinear and type(plain[0].act) is ff.nn.QuantizedRelu


# --- functional ops and the dispatcher ----------------------------------------------------------


def test_attention_asks_the_dispatcher_with_every_argument_by_keyword_before_strict_checks():
    # As every functional op: dispatch("scaled_dot_product_attention", query=..., key=...,
    # value=..., ...) first. Attention passed query, key and value positionally (a kernel
    # written for keywords failed: KeyError in its predicate, TypeError in a keyword-only
    # kernel) and raised the strict errors before asking, so a kernel for float operands
    # never ran under strict quantization.
    from fastforward import dispatcher

    calls = []

    def wants_floats(*args, **kwargs):
        calls.append((args, sorted(kwargs)))
        return not isinstance(kwargs["query"], QuantizedTensor)

    def kernel(*, query, key, value, output_quantizer, strict_quantization, **rest):
        return ("kernel", query.shape, strict_quantization, output_quantizer)

    q, k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 4)
    with dispatcher.register("scaled_dot_product_attention", wants_floats, kernel):
        with ff.strict_quantization(True):
            result = ff.nn.functional.scaled_dot_product_attention(q, k, v)
    assert result == ("kernel", (1, 2, 3, 4), True, None)
    args, names = calls[-1]
    assert args == () and {"query", "key", "value", "attn_mask", "output_quantizer", "strict_quantization"} <= set(names)
    # without the kernel: the strict check, as before
    with ff.strict_quantization(True):
        try:
            ff.nn.functional.scaled_dot_product_attention(q, k, v)
        except ff.exceptions.QuantizationError:
            pass
        else:
            raise AssertionError("float attention passed under strict quantization")
    reference = torch.softmax(q @ k.transpose(-1, -2) / 2.0, -1) @ v
    assert torch.allclose(ff.nn.functional.scaled_dot_product_attention(q, k, v, strict_quantization=False),
                          reference, atol=1e-6)


# --- flags ---------------------------------------------------------------------------------------


def test_flag_context_decorator_keeps_the_function_s_identity():
    @flags.context(ff.strict_quantization, True)
    def checked(x):
        """Doc."""
        return ff.get_strict_quantization(), x

    assert checked("a") == (True, "a") and ff.get_strict_quantization() is False
    assert checked.__name__ == "checked" and checked.__doc__ == "Doc."
    assert checked.__qualname__.endswith("checked") and checked.__wrapped__("b") == (False, "b")


# Each test runs non-strict, with fastforward's global state as at its start (plain_runner).
setup_function, teardown_function = isolation(strict=False)


if __name__ == "__main__":
    sys.exit(run(globals()))

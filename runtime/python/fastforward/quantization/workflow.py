"""Quanto's workflow in FastForward's terms: ``quantize`` -> ``calibration`` -> (QAT) -> ``freeze``.

::

    ff.quantize(model, weights="int8", activations="int8")   # in place; returns model
    with ff.calibration(model):                              # activation ranges
        for x in samples:
            model(x)
    ...                                                      # optional: train (QAT)
    ff.freeze(model)                                         # integer weights

``quantize`` = ffq autoquant for the model's own classes (when ffq is available) +
``quantize_model`` + a ``QuantizationConfig``: weights get symmetric, zero-point-free
``LinearQuantizer``s per output channel (int4: per group of 32 input elements where the
shape allows; the output dimension is the one the op consuming the weight reads as such,
``_WeightQuantizerFactory``) initialised from the weights, so they quantize right away; activations get
per-tensor symmetric quantizers that pass data through until calibrated. Biases stay float.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import linecache
import math
import sys
import types
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch

from fastforward import _layer_plan, mpath
from fastforward.nn.linear_quantizer import LinearQuantizer
from fastforward.nn.quantized_module import (
    _STUBBED_KEY,
    QuantizedModule,
    quantize_model,
    quantized_module_map,
    surrogate_quantized_modules,
)
from fastforward.nn.quantizer import Quantizer, QuantizerStub
from fastforward.overrides import DisableQuantizationOverride
from fastforward.quantization.freeze import freeze
from fastforward.quantization.granularity import PerBlock, PerChannel, PerTensor
from fastforward.quantization.quant_init import find_quantizers
from fastforward.quantization.strict_quantization import mark_non_strict
from fastforward.range_setting import estimate_ranges
from fastforward.range_setting.common import aminmax, is_quantized, storage_order
from fastforward.range_setting.minmax import RunningMinMaxRangeEstimator

__all__ = ["calibration", "ensure_quantized_classes", "freeze", "quantize"]

INT4_GROUP_SIZE = 32
_STATE = "_ff_quanto_state"


class _WeightQuantizerFactory:
    """Builds a weight quantizer for a slot and sets its range from the weight.

    Per output channel: ``layouts`` maps a slot's full name to (the weight's shape or None,
    the dimension holding its output channels) where the code consuming the slot says which
    one (``_tensors.weight_output_axis``: ``linear``'s weight along 0, ``addmm``'s ``mat2``, a
    weight stored ``[in, out]``, along 1). Other slots: along dimension 0 of the slot's
    metadata shape, per tensor without one. Int4: groups of ``group_size`` along the input
    dimension of a 2-D weight when it divides it, per output channel."""

    def __init__(self, num_bits: int, group_size: Optional[int],
                 layouts: Optional[Dict[str, Tuple[Optional[Sequence[int]], int]]] = None) -> None:
        self.num_bits = num_bits
        self.group_size = group_size
        self.layouts = dict(layouts or {})
        self.__name__ = "weight_int%d" % num_bits

    def granularity(self, shape: Optional[Sequence[int]], axis: Optional[int] = None) -> Any:
        if axis is None:
            if not shape:
                return PerTensor()
            axis = 0
        elif shape is not None and not -len(shape) <= axis < len(shape):
            return PerTensor()
        if shape is not None and len(shape) == 2:
            axis %= 2
            inputs = 1 - axis
            if self.group_size and shape[inputs] % self.group_size == 0 and shape[inputs] > self.group_size:
                return PerBlock(inputs, self.group_size, per_channel_dims=axis)
        return PerChannel(axis)

    def __call__(self, name: str, current: Quantizer) -> Quantizer:
        shape = getattr(current.quant_metadata, "shape", None) or None
        axis = None
        if name in self.layouts:
            known, axis = self.layouts[name]
            shape = shape or known
        return LinearQuantizer(self.num_bits, symmetric=True, allow_one_sided=False,
                               granularity=self.granularity(shape, axis))


def _weight_layouts(found: Any) -> Dict[str, Tuple[Optional[Sequence[int]], int]]:
    """full name -> (shape of the weight it quantizes when known, output axis) for the weight
    slots whose consuming op says which dimension holds the output channels."""
    from fastforward.quantization._tensors import quantized_tensor, weight_output_axis

    layouts: Dict[str, Tuple[Optional[Sequence[int]], int]] = {}
    for result in found:
        axis = weight_output_axis(result.parent, result.parent_attribute)
        if axis is None:
            continue
        pair = quantized_tensor(result.parent, result.parent_attribute)
        weight = getattr(pair[0], pair[1], None) if pair is not None else None
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else None
        layouts[result.full_name] = (shape, axis)
    return layouts


def _parse_spec(value: Any, what: str) -> Optional[Union[int, Callable[..., Any]]]:
    if value is None:
        return None
    if isinstance(value, str):
        v = value.lower().strip()
        if v.startswith("int") and v[3:].isdigit():
            return _parse_spec(int(v[3:]), what)  # the bit width's own check
        raise ValueError("%s: unknown spec %r (use 'int8', 'int4', a bit width or a quantizer factory)" % (what, value))
    if isinstance(value, bool):
        raise TypeError("%s: expected a bit width, a string or a factory, got %r" % (what, value))
    if isinstance(value, int):
        if not 2 <= value <= 16:
            raise ValueError("%s: bit width must be 2..16, got %d" % (what, value))
        return value
    if callable(value):
        return value
    raise TypeError("%s: expected a bit width, a string or a factory, got %r" % (what, value))


def _load_generated(source: str, tag: str) -> None:
    name = "fastforward_generated_%s_%s" % (tag, hashlib.sha1(source.encode()).hexdigest()[:10])
    if name in sys.modules:
        return
    module = types.ModuleType(name)
    module.__file__ = "<ffq autoquant %s>" % tag
    sys.modules[name] = module
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        _show_lines(module.__file__, source)
        raise
    _show_lines(module.__file__, source)
    # the generated activation modules' plans (_layer_plan.adopt) read their forward's
    # source, which inspect finds only now
    for value in list(module.__dict__.values()):
        if isinstance(value, type) and issubclass(value, QuantizedModule) and value.__module__ == name:
            _layer_plan.adopt(value, registered=True)


def _show_lines(filename: str, source: str) -> None:
    """Put the generated source where tracebacks, ``inspect.getsource`` and pdb look for a
    file's lines (a name in <...> is never read from disk, nor dropped by
    ``linecache.checkcache``). Only after the module ran: decorators that look for their
    function's file while a class is defined (transformers' ``auto_docstring`` reads a
    model name from the path) must not find this one."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _unmapped_types(model: torch.nn.Module) -> List[type]:
    mapping = quantized_module_map()
    out: List[type] = []
    for m in model.modules():
        t = type(m)
        if t in mapping or t is torch.nn.Module or isinstance(m, (Quantizer, QuantizedModule)) or t in out:
            continue
        out.append(t)
    return out


def ensure_quantized_classes(model: torch.nn.Module, *, use_ffq: bool = True) -> Dict[type, type]:
    """Make sure every module type of ``model`` has a quantized class: run ffq autoquant on
    the classes that have none (the model's own class first; its output usually covers its
    submodules), load what it generates, and return surrogates (float pass-through,
    with a warning) for types ffq could not handle. Returns the surrogate map."""
    if use_ffq:
        from fastforward._autoquantize import FfqError, autoquantize

        for t in list(_unmapped_types(model)):
            if t not in _unmapped_types(model):
                continue  # covered by an earlier run
            try:
                _load_generated(autoquantize(t), t.__name__)
            except (FfqError, ValueError, OSError, SyntaxError) as exc:
                warnings.warn("ffq autoquant could not generate Quantized%s (%s); it runs in float"
                              % (t.__name__, str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                              RuntimeWarning, stacklevel=3)
    missing = _unmapped_types(model)
    if missing:
        if not use_ffq:
            warnings.warn("no quantized class for %s; these run in float"
                          % ", ".join(t.__qualname__ for t in missing), RuntimeWarning, stacklevel=3)
        return surrogate_quantized_modules(model)
    return {}


def _owner_path(full_name: str) -> str:
    return full_name.rsplit(".", 1)[0] if "." in full_name else ""


def _module_filter(model: torch.nn.Module, patterns: Any) -> Callable[[str], bool]:
    """A predicate on module paths: fnmatch on the dotted name, or membership in an mpath
    query's results."""
    if patterns is None:
        return lambda path: False
    if isinstance(patterns, (str, mpath.Selector)):
        patterns = [patterns]
    selected = set()
    globs = []
    for p in patterns:
        if isinstance(p, str):
            globs.append(p)
            try:
                for name, _ in mpath.search(p, model).named_modules():
                    selected.add(name)
            except mpath.MPathParseError:
                pass  # not an mpath query: a plain fnmatch pattern
        else:
            selected.update(name for name, _ in mpath.search(p, model).named_modules())
    return lambda path: path in selected or any(fnmatch.fnmatchcase(path, g) for g in globs)


def _check_patterns(model: torch.nn.Module, patterns: Any, what: str) -> None:
    """Every ``include`` / ``exclude`` pattern must select some module of ``model``, as an
    mpath query or as an fnmatch pattern on module names: checked before the model is
    converted, so a misspelt pattern (or an mpath query naming an unknown class) is an error
    instead of a model silently left unquantized (or quantized where it was meant not to be)."""
    if patterns is None:
        return
    if isinstance(patterns, (str, mpath.Selector)) or not isinstance(patterns, (list, tuple, set)):
        patterns = [patterns]
    names = [name for name, _ in model.named_modules() if name]
    for p in patterns:
        if not isinstance(p, (str, mpath.Selector)):
            raise TypeError("quantize: %s takes fnmatch patterns or mpath queries, got %r" % (what, p))
        problem = ""
        try:
            if len(mpath.search(p, model)):
                continue
        except mpath.MPathParseError as exc:
            if not isinstance(p, str):
                raise
            problem = " (as an mpath query: %s)" % (str(exc).splitlines()[0],)
        if isinstance(p, str) and any(fnmatch.fnmatchcase(name, p) for name in names):
            continue
        sample = ", ".join(repr(n) for n in names[:4]) + (", ..." if len(names) > 4 else "")
        raise ValueError(
            "quantize: %s pattern %r matches no module of %s%s; module names are dotted paths "
            "such as %s" % (what, str(p), type(model).__name__, problem, sample or "(none)")
        )


def _per_module(fn: Callable[[torch.nn.Module], Quantizer], model: torch.nn.Module) -> Callable[[str, Any], Quantizer]:
    modules = dict(model.named_modules())

    def factory(name: str, current: Any) -> Quantizer:
        return fn(modules[_owner_path(name)])

    return factory


def quantize(model: torch.nn.Module, *, weights: Any = 8, activations: Any = None, include: Any = None,
             exclude: Any = None, use_ffq: bool = True,
             weight_quantizer: Optional[Callable[[torch.nn.Module], Quantizer]] = None,
             activation_quantizer: Optional[Callable[[torch.nn.Module], Quantizer]] = None) -> torch.nn.Module:
    """Quanto's ``quantize`` (see module doc). ``weights`` / ``activations``: a bit width, a
    string (``"int8"``, ``"int4"``), a quantizer factory ``(name, current) -> Quantizer``, or
    None (leave them unquantized). ``include`` / ``exclude``: fnmatch patterns on module names
    or mpath queries, restricting which modules get quantizers. ``weight_quantizer`` /
    ``activation_quantizer`` (TorchQuant's form): ``fn(module) -> Quantizer`` called with the
    module owning each slot; they take precedence over ``weights`` / ``activations``."""
    w = _parse_spec(weights, "weights")
    a = _parse_spec(activations, "activations")
    if weight_quantizer is not None:
        w = weight_quantizer
    if activation_quantizer is not None:
        a = activation_quantizer
    if w is None and a is None:
        raise ValueError("quantize: nothing to do (weights=None and activations=None)")
    _check_patterns(model, include, "include")
    _check_patterns(model, exclude, "exclude")
    extra = ensure_quantized_classes(model, use_ffq=use_ffq)
    quantize_model(model, extra_conversion=extra, skip_quantized_modules=True)
    if weight_quantizer is not None:
        w = _per_module(weight_quantizer, model)
    if activation_quantizer is not None:
        a = _per_module(activation_quantizer, model)
    included = _module_filter(model, include)
    excluded = _module_filter(model, exclude)

    def keep(full_name: str) -> bool:
        owner = _owner_path(full_name)
        if include is not None and not included(owner):
            return False
        return not excluded(owner)

    state = {"activation_switch": DisableQuantizationOverride(), "strict_handle": None}
    # loading a calibrated state into the model removes the switch from the loaded quantizers
    # (QuantizedModule._load_from_state_dict)
    state["activation_switch"].until_calibrated = True
    if w is not None:
        found = find_quantizers(model, "**/[quantizer:parameter/weight]")
        found = type(found)(model, [r for r in found if keep(r.full_name)], found.query)
        if isinstance(w, int):
            factory: Any = _WeightQuantizerFactory(w, INT4_GROUP_SIZE if w <= 4 else None, _weight_layouts(found))
        else:
            factory = w
        if found:
            new = found.initialize(factory, overwrite_policy="overwrite")
            _init_weight_ranges(model, new)
    if a is not None:
        found = find_quantizers(model, "**/[quantizer:activation]")
        found = type(found)(model, [r for r in found if keep(r.full_name)], found.query)
        if isinstance(a, int):
            bits = a
            afactory: Any = lambda name, current: LinearQuantizer(bits, symmetric=True, allow_one_sided=False,
                                                                   granularity=PerTensor())
        else:
            afactory = a
        if found:
            new = found.initialize(afactory, overwrite_policy="overwrite")
            # Activations pass through until calibrated.
            state["activation_switch"].attach_to(list(new.modules()))
    # Until activations are calibrated, float tensors meet quantized ops: not strict.
    state["strict_handle"] = mark_non_strict(model)
    model.__dict__[_STATE] = state
    return model


def _init_weight_ranges(model: torch.nn.Module, collection: Any) -> None:
    """Set each new weight quantizer's range from its weight (per tile min/max). When the
    weight it quantizes is not known (``quantization/_tensors.py``: generated code that reaches
    it through a local name or a helper's argument), from the first tensor it quantizes."""
    from fastforward.quantization._tensors import quantized_tensor
    from fastforward.range_setting.common import tile_minmax

    for result in collection:
        q = result.module
        if not hasattr(q, "quantization_range"):
            continue
        pair = quantized_tensor(result.parent, result.parent_attribute)
        weight = getattr(pair[0], pair[1], None) if pair is not None else None
        if not isinstance(weight, torch.Tensor):
            q.register_override(_RangeFromFirstTensor())
            continue
        lo, hi = tile_minmax(weight.detach(), q.granularity)
        q.quantization_range = (lo, hi)


class _RangeFromFirstTensor:
    """Quantizer override: before the first quantization, set the range from its input (per
    tile min/max), then step aside for good."""

    def __call__(self, quantizer: Any, callback: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        from fastforward.range_setting.common import tile_minmax

        for handle_id, fn in list(quantizer._overrides_dict().items()):
            if fn is self:
                quantizer.remove_override(handle_id)
        data = args[0] if args else kwargs["data"]
        if isinstance(data, torch.Tensor) and getattr(quantizer, "has_uninitialized_params", False):
            quantizer.quantization_range = tile_minmax(data.detach(), quantizer.granularity)
        return callback(*args, **kwargs)


@contextlib.contextmanager
def calibration(model: torch.nn.Module, estimator: Any = RunningMinMaxRangeEstimator) -> Iterator[None]:
    """Within the block, forward passes record activation ranges (``estimator``: an estimator
    class or instance; default running min-max), each activation quantized with its range as
    updated so far; after the block activation quantization stays on. Works on models made
    by ``quantize``, and on any model whose activation quantizers are range-settable."""
    state = model.__dict__.get(_STATE)
    activations = [q for _, q in find_quantizers(model, "**/[quantizer:activation]").named_modules()
                   if not q.is_stub()]
    if not activations:
        # Quanto's flow calibrates whatever quantize() set up, which may be weights only:
        # the block runs, with nothing to record
        warnings.warn("calibration: %s has no activation quantizers, nothing to calibrate (quantize it "
                      "with activations=... first)" % type(model).__name__, RuntimeWarning, stacklevel=3)
        yield
        return
    if isinstance(estimator, type):
        estimator = estimator()
    # Each activation is quantized right after its range is updated, so the model runs during
    # calibration as it will run quantized: code that branches on what it is given (torch's
    # attention takes its native fast path for plain tensors and another for tensor
    # subclasses; `if q is k:` compares objects) takes the quantized model's branches, and the
    # quantizers on those branches are the ones calibrated.
    # Activation quantization stays on afterwards; an error inside the block puts the switch
    # back as it was.
    switch = state["activation_switch"] if state is not None else None
    restore = switch.enable_quantization(True) if switch is not None else None
    guard = _MaskGuard()
    try:
        with estimate_ranges(activations, estimator):
            handles = [q.register_override(guard) for q in activations]  # runs before the estimator
            try:
                yield
            finally:
                for handle in handles:
                    handle.remove()
    except BaseException:
        if restore is not None:
            restore.__exit__(None, None, None)
        raise
    # Calibrated: the switch has nothing left to do, and a quantizer with an override runs
    # the generic path on every call (overrides can change anything), never the integer
    # layer plans. Detached, the quantizers run as if they had never been switched off.
    if switch is not None:
        switch.detach()
    _unquantize_masks(model, guard.masked)
    _unquantize_unset(model, guard.unset)
    _unquantize_never_set(model, guard.called)


# Ranges reaching this far come from additive masks (transformers fills masked attention
# scores with torch.finfo(dtype).min, -3.4e38 in float32 and bfloat16): no 8-bit grid holds
# such a value together with the scores it is added to (the step would be ~1e36).
MASK_MAGNITUDE = 1e30


class _MaskGuard:
    """Calibration override, outermost: once a quantizer's range reaches MASK_MAGNITUDE, or
    its data holds an infinity (range setting skips those, and quantized, a -inf fill would
    become the grid's lowest finite value: a softmax after it no longer masks) or a finite
    mask fill (``_masking``: -1e8, -10000), it passes its
    data on unquantized (from that call on), so the quantizers after it are calibrated on the
    values they will see once it is a stub. A quantizer left without any range (its data had
    no finite value, or was empty) passes it on too, and becomes a stub at the end."""

    def __init__(self) -> None:
        self.masked: Dict[int, Quantizer] = {}
        self.unset: Dict[int, Quantizer] = {}
        self.called: Dict[int, Quantizer] = {}  # the quantizers that ran (on anything)

    def __call__(self, quantizer: Any, callback: Callable[..., Any], args: Sequence[Any],
                 kwargs: Dict[str, Any]) -> Any:
        data = args[0] if args else kwargs["data"]
        self.called[id(quantizer)] = quantizer
        if id(quantizer) not in self.masked and _masking(data):
            self.masked[id(quantizer)] = quantizer  # a -inf fill: quantized, it is a finite value
        if id(quantizer) not in self.masked:
            try:
                out = callback(*args, **kwargs)
            except ValueError:
                # no range to quantize with: the data had no finite value (a -inf fill) or none
                # at all (an empty tensor); passed on as it is, and a stub at the end unless a
                # later call sets the range
                if not (getattr(quantizer, "has_uninitialized_params", False) and _no_finite_value(data)):
                    raise
                self.unset[id(quantizer)] = quantizer
                return data.view_as(data) if type(data) in (torch.Tensor, torch.nn.Parameter) else data
            if getattr(quantizer, "has_uninitialized_params", False) and _no_finite_value(data):
                # the estimator passed it on itself (a quantizer without a range does not
                # quantize during range setting): the same case
                self.unset[id(quantizer)] = quantizer
                return out
            if not _reaches_mask(quantizer):
                return out
            self.masked[id(quantizer)] = quantizer
        # a new object on the same data, as a quantizer returns one (see SimpleEstimatorStep)
        return data.view_as(data) if type(data) in (torch.Tensor, torch.nn.Parameter) else data


def _reaches_mask(q: Any) -> bool:
    if q.is_stub() or getattr(q, "has_uninitialized_params", True):
        return False
    try:
        lo, hi = q.quantization_range
    except (AttributeError, TypeError, ValueError):
        return False
    if not isinstance(lo, torch.Tensor) or not isinstance(hi, torch.Tensor) or not lo.numel():
        return False
    with torch.no_grad():
        return max(float(lo.detach().abs().max()), float(hi.detach().abs().max())) >= MASK_MAGNITUDE


def _stub_out(model: torch.nn.Module, chosen: Dict[int, Quantizer], tags: Sequence[str] = ("activation",)
              ) -> List[str]:
    """Replace the quantizers of ``chosen`` tagged with one of ``tags`` by stubs (which keep
    the slots' tags); their module paths."""
    names: List[str] = []
    for tag in tags:
        found = find_quantizers(model, "**/[quantizer:%s]" % tag)
        results = [r for r in found if id(r.module) in chosen and r.module is chosen[id(r.module)]]
        if results:
            type(found)(model, results, found.query).initialize(QuantizerStub, overwrite_policy="overwrite")
            names += [r.full_name for r in results]
            for r in results:  # recorded, so its state dict tells a copy to stub the slot too
                r.parent.__dict__.setdefault(_STUBBED_KEY, set()).add(r.parent_attribute)
    return names


def _listed(names: List[str]) -> str:
    return ", ".join(names[:6]) + (" and %d more" % (len(names) - 6) if len(names) > 6 else "")


# A finite mask fill (torchaudio's -1e8, the -10000 of older attention code) reaches this.
FILL_MIN = 1e4
FILL_GAP = 1e3


def _masking(data: Any) -> bool:
    """Whether ``data`` holds a mask fill: an infinity, or a finite fill whose magnitude is at
    least FILL_MIN, repeated, with every other value FILL_GAP times smaller (torchaudio's
    -1e8, the -10000 of older attention code). An 8-bit grid over such a range has a step
    hundreds of times larger than every ordinary value, which all quantize to zero (attention
    over masked scores becomes uniform); quantized, a -inf fill becomes a finite value. One
    pass over the data unless an extreme value is that large."""
    if not isinstance(data, torch.Tensor) or not data.is_floating_point() or not data.numel():
        return False
    if is_quantized(data):
        return False  # grid values
    with torch.no_grad():
        x = storage_order(data.detach())
        lo, hi = (float(v) for v in aminmax(x))
        if lo != lo or hi != hi:  # a NaN hides the extremes
            return bool(torch.isinf(x).any())
        if math.isinf(lo) or math.isinf(hi):
            return True
        for fill in (lo, hi):
            if abs(fill) < FILL_MIN:
                continue
            at = x == fill
            count = int(at.sum())
            if count < 2 or count == x.numel():
                continue
            if float(x.masked_fill(at, 0).abs().amax()) * FILL_GAP <= abs(fill):
                return True
    return False


def _no_finite_value(data: Any) -> bool:
    if not isinstance(data, torch.Tensor):
        return False
    with torch.no_grad():
        return data.numel() == 0 or not bool(torch.isfinite(data).any())


def _unquantize_unset(model: torch.nn.Module, seen: Dict[int, Quantizer]) -> None:
    """Replace by stubs the activation quantizers that ran during calibration but got no
    range: every value they saw was infinite or NaN (``torch.full_like(x, -inf)`` before a
    ``where`` or ``scatter``) or they only saw empty tensors (an expert no token was routed
    to). Left uninitialised they would raise on the model's next call with the same data."""
    unset = {k: q for k, q in seen.items()
             if not q.is_stub() and getattr(q, "has_uninitialized_params", False)}
    names = _stub_out(model, unset) if unset else []
    if names:
        warnings.warn(
            "calibration: %d activation quantizer(s) left unquantized (now stubs): they ran, but "
            "every value they saw was infinite or NaN, or empty, so no range could be set: %s"
            % (len(names), _listed(names)), RuntimeWarning, stacklevel=3)


def _unquantize_never_set(model: torch.nn.Module, called: Dict[int, Quantizer]) -> None:
    """Replace by stubs the quantizers still without a range after calibration: they were
    never given a tensor, because the model hands them only Python numbers (`d // self.heads`:
    a quantizer passes a number on) or never reached them (a branch the calibration data did
    not take). The latter are listed in ``model._ff_unreached_quantizers`` and logged
    (``fastforward.calibration``, INFO). Left uninitialised they would make
    `model.state_dict()` fail (lazy parameters cannot be saved) and raise on a later input
    that takes their branch; as stubs, that branch runs unquantized."""
    lazy = [(name, q) for name, q in model.named_modules()
            if isinstance(q, Quantizer) and not q.is_stub() and getattr(q, "has_uninitialized_params", False)]
    if not lazy:
        return
    _stub_out(model, {id(q): q for _, q in lazy}, ("activation", "parameter"))
    # Most unreached quantizers sit on branches the model's configuration rules out (a
    # residual add a block without a skip never takes, a mask that is always None): listed
    # on the model and logged, not warned about.
    unreached = [name for name, q in lazy if id(q) not in called]
    model.__dict__["_ff_unreached_quantizers"] = unreached
    if unreached:
        from fastforward.logging_utils import get_logger

        get_logger("calibration").info(
            "%d quantizer(s) the calibration data never reached are now stubs (their values pass "
            "unquantized if the model reaches them later): %s", len(unreached), _listed(unreached))


def _unquantize_masks(model: torch.nn.Module, masked: Dict[int, Quantizer]) -> None:
    """Replace by stubs the activation quantizers calibration found reaching
    MASK_MAGNITUDE, with a warning naming them. Quantized, such a tensor (a mask, or scores
    plus a mask) would lose every ordinary value to zero: the attention of a causal
    language model becomes uniform."""
    if not masked:
        return
    names = _stub_out(model, masked)
    if not names:
        return
    warnings.warn(
        "calibration: %d activation quantizer(s) left unquantized (now stubs): their data holds "
        "infinities or reaches +-%.0e, or a repeated fill of at least %.0e next to values %.0e "
        "times smaller: the fill values of masks, which no integer grid can hold together with "
        "ordinary values: %s" % (len(names), MASK_MAGNITUDE, FILL_MIN, FILL_GAP, _listed(names)),
        RuntimeWarning, stacklevel=3)

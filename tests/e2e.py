#!/usr/bin/env python3
"""End-to-end "nothing lost" test: a quantized model with stub quantizers computes exactly
what its float model computes.

For every case tests/cases/<area>/<name>.py that has a generated snapshot
snapshots/<area>/<name>.py (cases with only a .err are not applicable), this

1. loads the case as module <area>.<name> (or the `--module` of its `# ffq:` line), and the
   snapshot as module ffq_generated.<area>.<name>, which registers its Quantized classes;
2. builds float models (see "Scenarios"), deep-copies each and converts the copy with
   fastforward.quantize_model; requires at least one module of the copy to be swapped;
3. runs both on deep copies of the same inputs, with the same RNG seed, and requires, bit
   for bit: the outputs (tensors: dtype, shape, bits including NaN payloads and signed
   zeros, requires_grad; tuples, lists, dicts recursively; floats by their hex; other
   values by ==), the exception if one is raised (type and message), anything printed,
   the inputs afterwards (in-place updates), and the parameters, buffers and plain
   attributes of every float submodule afterwards (the quantized copy's must equal them);
4. runs both again with every floating-point input tensor requiring grad (when the float
   model accepts that) and requires identical outputs and identical gradients of the
   outputs with respect to those inputs and the parameters.

Every Quantized class the snapshot defines must be the one quantize_model uses for its
float class.

No ffq binary is needed: the snapshots are already generated (and tests/snapshots.py checks
that ffq still generates them).

Details: cases are loaded by file path under their dotted name, with placeholder parent
packages whose __path__ is the case's directory (helper modules such as <area>/_util.py
import normally; the case's directory is on sys.path while it loads). A case generated with
`--module __main__` is loaded as ffq_e2e_main.<area>.<name>, and the snapshot's
`from __main__ import` / `import __main__` are pointed there. torch runs on one thread, and
torch.empty/empty_like/empty_strided/Tensor.new_empty return NaN-filled (or max-int-filled)
tensors, so that uninitialized memory cannot make results differ. The registry of quantized
classes is restored after each case.

Scenarios
---------
A case may declare scenarios in its leading comment block (after any `# ffq:` and
`# optable:` lines), one per line; the expressions are Python, evaluated in the case
module's namespace (plus `torch`, `nn` and `F` when the case does not define them), right
after torch.manual_seed(0):

    # e2e: Heads(4, 3) <- torch.randn(2, 4), mode=1
    # e2e: Guard() <- torch.randn(3) raises ValueError
    # e2e: Block()
    # e2e: skip needs a GPU

* `CTOR <- ARGS`: CTOR builds the float model; ARGS is a call's argument list (positional
  and keyword arguments) for its forward. The first `<-` separates the two.
* `... raises NAME`: both models must raise an exception of that class (same message).
* `CTOR` alone: inputs are derived automatically from forward's signature (see below).
* `... ignore-input-mutation`: the inputs are not compared after the call (for a rewrite
  that knowingly drops an in-place update of an argument, e.g. `x += y` becoming
  `x = add(x, y)`, spec section 2.6). `raises` and this flag may come in either order.
* `skip REASON`: the whole case is skipped, with that reason.

`with_attrs(module, name=value, ...)` sets attributes that forward expects and returns the
module: `# e2e: with_attrs(Aug(), acc=torch.zeros(2, 4)) <- torch.randn(2, 4)`.

A declared run whose float model raises AttributeError "module 'torch...' has no attribute"
(an operator this torch lacks, e.g. rms_norm on 1.13) is skipped, not failed.

Every generated class whose float class no scenario's model contains (as the model or as a
submodule) is then tried automatically:

* Constructor: the float class is called without arguments when its constructor requires
  none; when every required parameter is annotated `int` (or not annotated), each gets 4
  (so subclasses of nn.Linear work). Otherwise the class is skipped.
* Inputs: every forward parameter without a default gets, by annotation: bool -> True and
  False (both are run), int -> 0, 1 and 2, float -> 0.5, a list/tuple/Sequence -> a list of
  two tensors, a tensor or no annotation -> a random tensor. Parameters with a default keep
  it, except that bool ones also run with its negation and int ones also with 0, 1 and 2.
  All combinations are run (at most 16).
  Tensors are float32 of shape (2, 4); if the float model rejects every combination, (4, 4),
  (1, 4, 4, 4), then int64 tensors (values 1..7) of shape (2, 4) and (4, 4) are tried.
  Combinations the float model rejects are not compared.
* If no combination runs, or the class cannot be built, the class is skipped (not a
  failure) and listed at the end, so that a `# e2e:` line can be added to the case.

A case passes when at least one run was compared and none failed; it is skipped when nothing
could be run; a snapshot without generated classes passes when it loads.

Usage:
    python3 tests/e2e.py [-v] [--cases DIR] [--snapshots DIR] [CASE_GLOB...]
    e.g. python3 tests/e2e.py -v 'basic/*'

-v lists every run; --cases and --snapshots replace tests/cases and snapshots (to try
cases or snapshots that are not in the tree yet).

Runs with torch 1.13 (Debian's /usr/bin/python3) and 2.x. Prints one line per case and ends
with "e2e: N passed, M failed, K skipped"; exits nonzero when a case failed (or when no case
was found).
"""

import contextlib
import copy
import fnmatch
import importlib.util
import inspect
import io
import itertools
import os
import re
import shlex
import sys
import traceback
import types
import typing
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "tests", "cases")
SNAPS = os.path.join(ROOT, "snapshots")
sys.path.insert(0, os.path.join(ROOT, "runtime", "python"))

import torch  # noqa: E402

import fastforward  # noqa: E402
from fastforward.nn import quantized_module as qm  # noqa: E402

# Stub quantizers pass float tensors on: the float fallback, which strict quantization
# (fastforward's default) forbids.
fastforward.set_strict_quantization(False)

SEED = 0
# Automatic tensor inputs, tried in this order until the float model accepts one:
# (shape, dtype); integer tensors hold values in 1..7 (no zero divisors, valid shifts).
INPUT_KINDS = [
    ((2, 4), torch.float32),
    ((4, 4), torch.float32),
    ((1, 4, 4, 4), torch.float32),
    ((2, 4), torch.int64),
    ((4, 4), torch.int64),
]
INT_VALUES = [0, 1, 2]
MAX_COMBOS = 16
GUESSED_CTOR_INT = 4
GENERATED_PREFIX = "ffq_generated"
MAIN_ALIAS_PREFIX = "ffq_e2e_main"  # cases generated with --module __main__ load as this


class Skip(Exception):
    """This class or case cannot be run automatically; not a failure."""


class Failure(Exception):
    """The quantized model does not behave like the float model (or a declaration is wrong)."""


# --- finding cases and reading their headers --------------------------------------------------


def find_cases(globs):
    cases = []
    for dirpath, dirs, files in os.walk(CASES):
        dirs.sort()
        for fn in sorted(files):
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, CASES)
            # Same rule as snapshots.py: helper modules start with "_" or live in _dirs.
            if not fn.endswith(".py") or fn.startswith("_") or "/_" in "/" + os.path.dirname(rel):
                continue
            if rel.startswith("packages" + os.sep) and fn != "model.py":
                continue  # multi-file cases: only packages/<case>/model.py is an entry
            if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(rel, g + ".py") for g in globs):
                cases.append(rel)
    return sorted(cases)


def read_header(path):
    """(ffq arguments, e2e lines) from the leading comment block, as snapshots.py reads it."""
    ffq_args, e2e = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            if line.startswith("# ffq:"):
                ffq_args += shlex.split(line[len("# ffq:") :])
            elif line.startswith("# e2e:"):
                e2e.append(line[len("# e2e:") :].strip())
    return ffq_args, e2e


def module_option(ffq_args):
    module = None
    for i, arg in enumerate(ffq_args):
        if arg == "--module" and i + 1 < len(ffq_args):
            module = ffq_args[i + 1]
        elif arg.startswith("--module="):
            module = arg[len("--module=") :]
    return module


# --- loading a case and its snapshot ----------------------------------------------------------


def ensure_parents(dotted, directory):
    """Register placeholder packages for the parents of `dotted` that are not imported yet.

    The immediate parent gets `directory` as its __path__, so the case's helper modules
    (`from <area>._helpers import f`, `from . import _helpers`) import from there.
    """
    parts = dotted.split(".")
    for i in range(1, len(parts)):
        name = ".".join(parts[:i])
        paths = [directory] if i == len(parts) - 1 else []
        existing = sys.modules.get(name)
        if existing is not None:
            if getattr(existing, "_ffq_e2e_placeholder", False):
                existing.__path__ += [p for p in paths if p not in existing.__path__]
            continue
        pkg = types.ModuleType(name)
        pkg.__path__ = paths
        pkg.__package__ = name
        pkg._ffq_e2e_placeholder = True
        sys.modules[name] = pkg
        if i > 1:
            setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], pkg)


def load_file_as(name, path):
    ensure_parents(name, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_source_as(name, path, text):
    ensure_parents(name, os.path.dirname(path))
    module = types.ModuleType(name)
    module.__file__ = path
    module.__package__ = name.rpartition(".")[0]
    sys.modules[name] = module
    try:
        exec(compile(text, path, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@contextlib.contextmanager
def case_dir_on_path(directory):
    """ffq runs in the case's directory; a case may import sibling helpers directly."""
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        sys.path.remove(directory)


def load_case(rel):
    """(case module, generated module) for tests/cases/<rel>."""
    stem = rel[:-3]
    case_path = os.path.join(CASES, rel)
    snap_path = os.path.join(SNAPS, stem + ".py")
    ffq_args, _ = read_header(case_path)
    module = module_option(ffq_args) or stem.replace(os.sep, ".")
    if stem.startswith("packages" + os.sep):  # ffq derived `<case>.model` from the package root
        module = stem[len("packages") + 1 :].replace(os.sep, ".")
        if os.path.join(CASES, "packages") not in sys.path:
            sys.path.insert(0, os.path.join(CASES, "packages"))
    with open(snap_path, encoding="utf-8") as f:
        text = f.read()
    if module == "__main__":
        # The generated code says `from __main__ import X`: load the case under an alias and
        # point the import there.
        module = ".".join([MAIN_ALIAS_PREFIX] + stem.split(os.sep))
        text = re.sub(
            r"^(\s*)from\s+__main__\s+import\b", r"\1from %s import" % module, text, flags=re.M
        )
        text = re.sub(
            r"^(\s*)import\s+__main__\s*$", r"\1import %s as __main__" % module, text, flags=re.M
        )
    with case_dir_on_path(os.path.dirname(case_path)):
        try:
            case_mod = load_file_as(module, case_path)
        except Exception as e:
            raise Failure("importing the case as %s raised %s" % (module, describe(e)))
        gen_name = ".".join([GENERATED_PREFIX] + stem.split(os.sep))
        try:
            gen_mod = load_source_as(gen_name, snap_path, text)
        except Exception as e:
            raise Failure("importing the snapshot raised %s\n%s" % (describe(e), indent_tb()))
    return case_mod, gen_mod


def generated_classes(gen_mod):
    """[(quantized class, float class)] defined by the generated module, in source order.

    Raises Failure when quantize_model would not use one of them for its float class.
    """
    found = []
    for value in vars(gen_mod).values():
        if (
            isinstance(value, type)
            and issubclass(value, qm.QuantizedModule)
            and value.__module__ == gen_mod.__name__
        ):
            base = qm.float_base_of(value)
            if base is None:
                raise Failure("%s quantizes no float class" % value.__name__)
            if qm.quantized_class_for(base) is not value:
                raise Failure(
                    "quantize_model does not use %s for %s (it uses %r)"
                    % (value.__name__, base.__name__, qm.quantized_class_for(base))
                )
            found.append((value, base))
    return found


# --- comparing bit for bit --------------------------------------------------------------------

_SAME_SIZE_INT = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def _bits(t):
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t)
    t = t.contiguous()
    int_dtype = _SAME_SIZE_INT.get(t.dtype)
    return t.view(int_dtype) if int_dtype is not None else t


def differences(a, b, where="output"):
    """The first difference between a (float model) and b (quantized model), or None."""
    if type(a) is not type(b):
        return "%s: type %s (float) vs %s (quantized)" % (where, type(a).__name__, type(b).__name__)
    if isinstance(a, torch.Tensor):
        if a.dtype != b.dtype:
            return "%s: dtype %s vs %s" % (where, a.dtype, b.dtype)
        if a.shape != b.shape:
            return "%s: shape %s vs %s" % (where, tuple(a.shape), tuple(b.shape))
        if a.requires_grad != b.requires_grad:
            return "%s: requires_grad %s vs %s" % (where, a.requires_grad, b.requires_grad)
        if a.layout != torch.strided or b.layout != torch.strided:
            a, b = a.to_dense(), b.to_dense()
        if not torch.equal(_bits(a), _bits(b)):
            if a.is_floating_point() or a.is_complex():
                nan_a, nan_b = torch.isnan(a.detach()), torch.isnan(b.detach())
                if not torch.equal(nan_a, nan_b):
                    return "%s: NaNs at different positions" % where
            return "%s: values differ (max abs diff %s)" % (where, _max_diff(a, b))
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return "%s: length %d vs %d" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = differences(x, y, "%s[%d]" % (where, i))
            if d:
                return d
        return None
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            return "%s: keys %r vs %r" % (where, list(a.keys()), list(b.keys()))
        for k in a:
            d = differences(a[k], b[k], "%s[%r]" % (where, k))
            if d:
                return d
        return None
    if isinstance(a, float):
        return None if a.hex() == b.hex() else "%s: %r vs %r" % (where, a, b)
    if isinstance(a, torch.nn.Module):
        return None  # a module returned by forward: its state is compared separately
    if type(a).__eq__ is object.__eq__:
        # Equality is identity, and a and b are copies: compare their attributes instead.
        if hasattr(a, "__dict__") and where.count(".") < 8:
            for k, v in vars(a).items():
                d = differences(v, vars(b).get(k, _MISSING), "%s.%s" % (where, k))
                if d:
                    return d
        return None
    try:
        same = bool(a == b)
    except Exception:  # noqa: BLE001 - uncomparable objects: fall back to repr
        same = repr(a) == repr(b)
    return None if same else "%s: %r vs %r" % (where, a, b)


_MISSING = object()


def _max_diff(a, b):
    try:
        return (a.detach().double() - b.detach().double()).abs().max().item()
    except Exception:  # noqa: BLE001
        return "n/a"


def tensors_in(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from tensors_in(v)


# --- running one scenario ---------------------------------------------------------------------


def fill_uninitialized_memory():
    """Make torch.empty & co. return filled tensors (NaN, or the largest integer), so that
    code using them is deterministic; torch >= 2.1 does this in deterministic mode, which
    1.13 lacks. Done once, before any case is imported, so `from torch import empty_like`
    gets the filling version too."""

    def fill(t):
        if isinstance(t, torch.Tensor) and t.layout == torch.strided:
            with torch.no_grad():
                if t.is_floating_point() or t.is_complex():
                    t.fill_(float("nan"))
                elif t.dtype == torch.bool:
                    t.fill_(True)
                else:
                    t.fill_(torch.iinfo(t.dtype).max)
        return t

    def wrap(fn):
        def filled(*args, **kwargs):
            return fill(fn(*args, **kwargs))

        filled.__name__ = getattr(fn, "__name__", "empty")
        filled.__doc__ = getattr(fn, "__doc__", None)
        filled.__wrapped__ = fn
        return filled

    for owner, name in (
        (torch, "empty"),
        (torch, "empty_like"),
        (torch, "empty_strided"),
        (torch.Tensor, "new_empty"),
    ):
        fn = getattr(owner, name, None)
        if fn is not None and not hasattr(fn, "__wrapped__"):
            setattr(owner, name, wrap(fn))


def describe(exc):
    msg = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, msg[0] if msg else "")


def indent_tb():
    return "    " + traceback.format_exc().rstrip().replace("\n", "\n    ")


def call(model, args, kwargs):
    """(result, exception, printed text) of model(*args, **kwargs) with the RNG at SEED."""
    out = io.StringIO()
    torch.manual_seed(SEED)
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model(*args, **kwargs), None, out.getvalue()
    except Exception as e:  # noqa: BLE001 - compared between the two models
        return None, e, out.getvalue()


def _differentiable(t):
    return t.is_floating_point() or t.is_complex()


def gradient_pass(float_model, quant_model, args, kwargs):
    """Run both models again, with every floating-point input tensor requiring grad, and
    compare the outputs and the gradients of their sum with respect to the inputs and the
    parameters. Returns the first difference, or None (also when the float model cannot be
    differentiated on these inputs: then there is nothing to compare)."""
    runs = []
    for model in (float_model, quant_model):
        a, k = copy.deepcopy((args, kwargs))
        leaves = [t for t in tensors_in((a, k)) if _differentiable(t) and t.is_leaf]
        for t in leaves:
            t.requires_grad_(True)
        out, exc, printed = call(model, a, k)
        grads = None
        if exc is None:
            names = [n for n, p in float_model.named_parameters() if p.requires_grad]
            params = dict(model.named_parameters())
            wrt = leaves + [params[n] for n in names if n in params]
            outs = [t for t in tensors_in(out) if t.requires_grad and _differentiable(t)]
            if outs and wrt:
                try:
                    torch.manual_seed(SEED)
                    grads = list(
                        torch.autograd.grad(
                            outs, wrt, [torch.ones_like(o) for o in outs], allow_unused=True
                        )
                    )
                except Exception as e:  # noqa: BLE001
                    exc = e
        runs.append((out, exc, printed, grads))
        if model is float_model and exc is not None:
            return None  # not differentiable as the float model stands
    (f_out, _, _, f_grads), (q_out, q_exc, _, q_grads) = runs
    if q_exc is not None:
        return "with inputs requiring grad, only the quantized model raised %s" % describe(q_exc)
    d = differences(f_out, q_out, "output (inputs requiring grad)")
    if d:
        return d
    if (f_grads is None) != (q_grads is None):
        return "gradients: %s (float) vs %s (quantized)" % (
            "none" if f_grads is None else "some",
            "none" if q_grads is None else "some",
        )
    for i, (g_f, g_q) in enumerate(zip(f_grads or [], q_grads or [])):
        if (g_f is None) != (g_q is None):
            return "gradient %d: %s vs %s" % (
                i,
                g_f is None and "unused" or "some",
                g_q is None and "unused" or "some",
            )
        if g_f is not None:
            d = differences(g_f, g_q, "gradient %d" % i)
            if d:
                return d
    return None


class Run:
    """The result of comparing one float model and its quantized copy on one input."""

    def __init__(self, label, status, detail=""):
        self.label, self.status, self.detail = label, status, detail


def compare(label, model, args, kwargs, expect_raise=None, auto=False, ignore_inputs=False):
    """Run `model` and its quantized deep copy on (args, kwargs); return a Run.

    status "ok", "fail", "rejected" (auto mode: the float model raised, so these inputs
    say nothing) or "unavailable" (the float model uses what this torch lacks).
    """
    try:
        float_model = copy.deepcopy(model)
        quant_model = copy.deepcopy(model)
    except Exception as e:  # noqa: BLE001
        if auto:
            raise Skip("cannot deep-copy the model: %s" % describe(e))
        return Run(label, "fail", "cannot deep-copy the model: %s" % describe(e))
    try:
        returned = fastforward.quantize_model(quant_model)
    except Exception as e:  # noqa: BLE001
        return Run(label, "fail", "quantize_model raised %s\n%s" % (describe(e), indent_tb()))
    if returned is not quant_model:
        return Run(label, "fail", "quantize_model did not return the model it was given")
    swapped = [
        type(m).__name__
        for m in quant_model.modules()
        if isinstance(m, qm.QuantizedModule) and type(m).__name__.startswith("Quantized")
    ]
    if not swapped:
        return Run(label, "fail", "quantize_model swapped no module of %s" % type(model).__name__)
    float_args, float_kwargs = copy.deepcopy((args, kwargs))
    quant_args, quant_kwargs = copy.deepcopy((args, kwargs))

    f_out, f_exc, f_print = call(float_model, float_args, float_kwargs)
    if f_exc is not None and auto:
        return Run(label, "rejected", describe(f_exc))
    q_out, q_exc, q_print = call(quant_model, quant_args, quant_kwargs)

    if expect_raise is not None:
        if f_exc is None:
            return Run(
                label, "fail", "declared `raises %s`, but the float model returned" % expect_raise
            )
        if expect_raise not in [c.__name__ for c in type(f_exc).__mro__]:
            return Run(
                label,
                "fail",
                "declared `raises %s`, but the float model raised %s"
                % (expect_raise, describe(f_exc)),
            )
    elif isinstance(f_exc, AttributeError) and str(f_exc).startswith("module 'torch"):
        return Run(label, "unavailable", "this torch lacks it: %s" % describe(f_exc))
    elif f_exc is not None:
        return Run(
            label,
            "fail",
            "the float model raised %s (wrong `# e2e:` declaration?)\n%s"
            % (describe(f_exc), _tb_of(f_exc)),
        )
    if q_exc is not None and f_exc is None:
        return Run(
            label,
            "fail",
            "only the quantized model raised %s\n%s" % (describe(q_exc), _tb_of(q_exc)),
        )
    if f_exc is not None:
        if q_exc is None:
            return Run(
                label,
                "fail",
                "the float model raised %s, the quantized model returned" % describe(f_exc),
            )
        if type(q_exc) is not type(f_exc) or str(q_exc) != str(f_exc):
            return Run(
                label,
                "fail",
                "the float model raised %s, the quantized model %s"
                % (describe(f_exc), describe(q_exc)),
            )
    else:
        d = differences(f_out, q_out)
        if d:
            return Run(label, "fail", d)
    if f_print != q_print:
        return Run(label, "fail", "printed output differs: %r vs %r" % (f_print, q_print))
    d = differences((float_args, float_kwargs), (quant_args, quant_kwargs), "inputs after the call")
    if d and not ignore_inputs:
        return Run(label, "fail", d)
    ignored = "ignored: " + d if d else ""
    d = state_differences(float_model, quant_model)
    if d:
        return Run(label, "fail", d)
    if f_exc is None:
        d = gradient_pass(float_model, quant_model, args, kwargs)
        if d:
            return Run(label, "fail", d)
    detail = "raised %s" % type(f_exc).__name__ if f_exc is not None else ""
    return Run(label, "ok", "; ".join(filter(None, [detail, ignored])))


def _plain(value):
    if isinstance(value, (torch.Tensor, bool, int, float, str, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return False


def state_differences(float_model, quant_model):
    """Parameters, buffers and plain attributes (tensors, numbers, strings and containers of
    them, e.g. `self.acc` updated by forward) of every float submodule must be equal in the
    quantized copy; what the quantized copy adds (its quantizers) is not compared."""
    q_state = quant_model.state_dict()
    for key, value in float_model.state_dict().items():
        if key not in q_state:
            return "state %r is missing from the quantized model" % key
        d = differences(value, q_state[key], "state %r after the call" % key)
        if d:
            return d
    q_modules = dict(quant_model.named_modules())
    for name, f_mod in float_model.named_modules():
        q_mod = q_modules.get(name)
        if q_mod is None:
            return "submodule %r is missing from the quantized model" % name
        q_vars = vars(q_mod)
        for attr, value in vars(f_mod).items():
            if attr.startswith("_") or attr == "training" or not _plain(value):
                continue
            where = "attribute %s after the call" % ".".join(filter(None, [name, attr]))
            if attr not in q_vars:
                return where + ": missing from the quantized model"
            d = differences(value, q_vars[attr], where)
            if d:
                return d
    return None


def _tb_of(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "    " + "".join(lines[-6:]).rstrip().replace("\n", "\n    ")


# --- automatic construction and inputs --------------------------------------------------------


def kind_of(annotation):
    """'bool', 'int', 'float', 'str', 'list', 'tensor' or None (unknown) for an annotation."""
    if annotation is inspect.Parameter.empty:
        return "tensor"
    if isinstance(annotation, str):
        text = annotation.replace(" ", "")
        m = re.match(r"^(?:typing\.)?Optional\[(.*)\]$", text)
        if m:
            text = m.group(1)
        if text in ("bool", "int", "float", "str"):
            return text
        if re.match(r"^(?:typing\.)?(List|list|Tuple|tuple|Sequence|Iterable)\b", text):
            return "list"
        if text in ("torch.Tensor", "Tensor"):
            return "tensor"
        return None
    origin = getattr(annotation, "__origin__", None)
    if origin is typing.Union:
        args = [a for a in annotation.__args__ if a is not type(None)]
        return kind_of(args[0]) if len(args) == 1 else None
    for t, k in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if annotation is t:
            return k
    if annotation is torch.Tensor:
        return "tensor"
    if annotation in (list, tuple) or origin in (list, tuple):
        return "list"
    try:
        import collections.abc as cabc

        if origin in (cabc.Sequence, cabc.Iterable):
            return "list"
    except Exception:  # noqa: BLE001
        pass
    return None


def build_auto(float_cls):
    """(model, note) for a float class, constructed without declared arguments."""
    try:
        sig = inspect.signature(float_cls)
    except (TypeError, ValueError) as e:
        raise Skip("cannot read the constructor's signature: %s" % e)
    args, note = [], ""
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.kind == p.KEYWORD_ONLY or kind_of(p.annotation) not in ("int", "tensor"):
            required = [
                q.name
                for q in sig.parameters.values()
                if q.default is q.empty and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)
            ]
            raise Skip(
                "constructor %s needs arguments (%s)" % (float_cls.__name__, ", ".join(required))
            )
        args.append(GUESSED_CTOR_INT)
    if args:
        note = "%s(%s)" % (float_cls.__name__, ", ".join(map(str, args)))
    torch.manual_seed(SEED)
    try:
        return float_cls(*args), note
    except Exception as e:  # noqa: BLE001
        raise Skip(
            "%s(%s) raised %s" % (float_cls.__name__, ", ".join(map(str, args)), describe(e))
        )


def make_tensor(kind):
    shape, dtype = kind
    if dtype.is_floating_point:
        return torch.randn(*shape, dtype=dtype)
    return torch.randint(1, 8, shape, dtype=dtype)


def kind_label(kind):
    shape, dtype = kind
    return "x".join(map(str, shape)) + ("" if dtype == torch.float32 else " " + str(dtype)[6:])


def auto_inputs(model, tensor_kind):
    """[(label, args, kwargs)]: the input combinations for forward, tensors of `tensor_kind`."""
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError) as e:
        raise Skip("cannot read forward's signature: %s" % e)
    torch.manual_seed(SEED)
    names, choices, keyword = [], [], []
    by_keyword = False  # after an omitted parameter, the rest go by keyword
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind = kind_of(p.annotation)
        if p.default is not p.empty:
            if kind == "bool" and isinstance(p.default, bool):
                values = [p.default, not p.default]
            elif kind == "int" and type(p.default) is int:
                values = [p.default] + [v for v in INT_VALUES if v != p.default]
            else:
                by_keyword = True
                continue
        elif kind == "bool":
            values = [True, False]
        elif kind == "int":
            values = list(INT_VALUES)
        elif kind == "float":
            values = [0.5]
        elif kind == "list":
            values = [[make_tensor(tensor_kind), make_tensor(tensor_kind)]]
        elif kind == "tensor":
            values = [make_tensor(tensor_kind)]
        else:
            raise Skip(
                "cannot make a value for forward parameter %s: %s"
                % (p.name, inspect.formatannotation(p.annotation))
            )
        names.append(p.name)
        choices.append(values)
        keyword.append(by_keyword or p.kind == p.KEYWORD_ONLY)
    combos = []
    for values in itertools.islice(itertools.product(*choices), MAX_COMBOS):
        args, kwargs, parts = [], {}, []
        for name, value, kw in zip(names, values, keyword):
            if kw:
                kwargs[name] = value
            else:
                args.append(value)
            if not isinstance(value, (torch.Tensor, list)):
                parts.append("%s=%r" % (name, value))
        combos.append((", ".join(parts), args, kwargs))
    return combos


def run_auto(model, name):
    """[Run] for a model with automatically derived inputs; raises Skip if none runs."""
    rejected = []
    for kind in INPUT_KINDS:
        runs = []
        for label, args, kwargs in auto_inputs(model, kind):
            shown = "%s %s%s" % (name, kind_label(kind), (" " + label) if label else "")
            runs.append(compare(shown, model, args, kwargs, auto=True))
        if any(r.status != "rejected" for r in runs):
            return runs
        rejected.append("%s: %s" % (kind_label(kind), runs[0].detail if runs else "no inputs"))
    first = rejected[0] if len(rejected[0]) <= 110 else rejected[0][:107] + "..."
    raise Skip(
        "forward rejects the automatic inputs (%s; and %d more input kinds)"
        % (first, len(rejected) - 1)
    )


# --- declared scenarios -----------------------------------------------------------------------


def with_attrs(module, **attrs):
    """For `# e2e:` lines: set plain attributes that forward expects, and return the module."""
    for name, value in attrs.items():
        setattr(module, name, value)
    return module


def namespace(case_mod):
    ns = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "with_attrs": with_attrs}
    ns.update(vars(case_mod))
    return ns


def parse_scenario(line):
    """(ctor, args text or None, expected exception name or None, ignore input mutation)."""
    expect, ignore_inputs = None, False
    while True:
        m = re.search(r"\s+raises\s+([A-Za-z_][\w.]*)\s*$", line)
        if m:
            expect, line = m.group(1).rpartition(".")[2], line[: m.start()]
            continue
        m = re.search(r"\s+ignore-input-mutation\s*$", line)
        if m:
            ignore_inputs, line = True, line[: m.start()]
            continue
        break
    if "<-" in line:
        ctor, _, args = line.partition("<-")
        return ctor.strip(), args.strip(), expect, ignore_inputs
    return line.strip(), None, expect, ignore_inputs


def run_declared(line, case_mod):
    """(model or None, [Run]) for one `# e2e:` line."""
    ctor, args_text, expect, ignore_inputs = parse_scenario(line)
    label = line if len(line) <= 60 else line[:57] + "..."
    ns = namespace(case_mod)
    torch.manual_seed(SEED)
    try:
        model = eval(ctor, ns)
    except Exception as e:  # noqa: BLE001
        return None, [
            Run(label, "fail", "`# e2e: %s`: the constructor raised %s" % (line, describe(e)))
        ]
    if not isinstance(model, torch.nn.Module):
        return None, [
            Run(label, "fail", "`# e2e: %s`: %s is not an nn.Module" % (line, type(model).__name__))
        ]
    if args_text is None:
        if expect:
            return model, [Run(label, "fail", "`raises` needs declared inputs (`<-`)")]
        try:
            runs = run_auto(model, label)
        except Skip as e:
            return model, [Run(label, "fail", "`# e2e: %s`: %s" % (line, e))]
        return model, runs
    torch.manual_seed(SEED)
    try:
        args, kwargs = eval("(lambda *a, **k: (list(a), k))(%s)" % args_text, ns)
    except Exception as e:  # noqa: BLE001
        return model, [
            Run(label, "fail", "`# e2e: %s`: the inputs raised %s" % (line, describe(e)))
        ]
    run = compare(label, model, args, kwargs, expect_raise=expect, ignore_inputs=ignore_inputs)
    return model, [run]


# --- one case ---------------------------------------------------------------------------------


class CaseResult:
    def __init__(self, rel):
        self.rel = rel
        self.runs = []
        self.skipped = []  # (what, reason)
        self.failure = None
        self.note = ""
        self.declared_skip = None  # the reason of `# e2e: skip`

    @property
    def status(self):
        if self.failure or any(r.status == "fail" for r in self.runs):
            return "FAIL"
        if any(r.status == "ok" for r in self.runs) or self.note:
            return "ok"
        return "skip"


def run_case(rel):
    result = CaseResult(rel)
    _, lines = read_header(os.path.join(CASES, rel))
    for line in lines:
        if line.split(None, 1)[:1] == ["skip"]:
            result.declared_skip = line[len("skip") :].strip() or "no reason given"
            result.skipped.append(("", "`# e2e: skip` " + result.declared_skip))
            return result
    registry = dict(qm._QUANTIZED_CLASSES)
    try:
        try:
            case_mod, gen_mod = load_case(rel)
        except Failure as e:
            result.failure = str(e)
            return result
        try:
            classes = generated_classes(gen_mod)
        except Failure as e:
            result.failure = str(e)
            return result
        if not classes:
            if lines:
                result.failure = "`# e2e:` lines, but the snapshot defines no quantized class"
            else:
                result.note = "no generated classes"
            return result
        quantizable = {base for _, base in classes}
        covered = set()
        for line in lines:
            model, runs = run_declared(line, case_mod)
            result.runs += runs
            result.skipped += [(r.label, r.detail) for r in runs if r.status == "unavailable"]
            if model is not None:
                present = {type(m) for m in model.modules()} & quantizable
                if not present and not any(r.status == "fail" for r in runs):
                    result.runs.append(
                        Run(
                            line,
                            "fail",
                            "`# e2e: %s`: the model contains no class "
                            "that the snapshot quantizes" % line,
                        )
                    )
                covered |= present
        for _, base in classes:
            if base in covered:
                continue
            try:
                model, note = build_auto(base)
                runs = run_auto(model, note or base.__name__)
            except Skip as e:
                result.skipped.append((base.__name__, str(e)))
                continue
            result.runs += runs
            if not any(r.status == "ok" or r.status == "fail" for r in runs):
                result.skipped.append(
                    (base.__name__, "the float model rejects every automatic input")
                )
    finally:
        qm._QUANTIZED_CLASSES.clear()
        qm._QUANTIZED_CLASSES.update(registry)
    return result


def summarize(result, verbose):
    ok = [r for r in result.runs if r.status == "ok"]
    fails = [r for r in result.runs if r.status == "fail"]
    rejected = [r for r in result.runs if r.status == "rejected"]
    status = result.status
    stem = result.rel[:-3]
    if status == "FAIL":
        print("FAIL %s" % stem)
        if result.failure:
            print("    " + result.failure.replace("\n", "\n    "))
        for r in fails:
            print("    %s: %s" % (r.label, r.detail.replace("\n", "\n    ")))
        return
    if status == "skip":
        print(
            "skip %s: %s"
            % (stem, "; ".join(("%s: %s" % (w, why)) if w else why for w, why in result.skipped))
        )
        return
    parts = [result.note] if result.note else ["%d run%s" % (len(ok), "" if len(ok) == 1 else "s")]
    if rejected:
        parts.append(
            "%d input combination%s rejected by the float model"
            % (len(rejected), "" if len(rejected) == 1 else "s")
        )
    ignored = sum("ignored: " in r.detail for r in ok)
    if ignored:
        parts.append("%d with changed inputs ignored" % ignored)
    if result.skipped:
        parts.append("skipped " + ", ".join(w for w, _ in result.skipped))
    print("ok   %s (%s)" % (stem, "; ".join(parts)))
    if verbose:
        for r in result.runs:
            print("       %-8s %s%s" % (r.status, r.label, (": " + r.detail) if r.detail else ""))


def main(argv):
    global CASES, SNAPS
    verbose, globs = False, []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "-v":
            verbose = True
        elif arg == "--snapshots" and args:
            SNAPS = os.path.abspath(args.pop(0))
        elif arg.startswith("--snapshots="):
            SNAPS = os.path.abspath(arg[len("--snapshots=") :])
        elif arg == "--cases" and args:
            CASES = os.path.abspath(args.pop(0))
        elif arg.startswith("-"):
            sys.exit(__doc__)
        else:
            globs.append(arg)
    globs = globs or ["*"]
    torch.set_num_threads(1)
    fill_uninitialized_memory()
    sys.path.insert(0, CASES)
    cases = find_cases(globs)
    applicable = [rel for rel in cases if os.path.exists(os.path.join(SNAPS, rel[:-3] + ".py"))]
    passed = failed = skipped = 0
    skip_list, declared = [], 0
    for rel in applicable:
        try:
            result = run_case(rel)
        except Exception:  # noqa: BLE001 - a bug in the harness or a case: report, go on
            result = CaseResult(rel)
            result.failure = "the harness raised\n" + indent_tb()
        summarize(result, verbose)
        status = result.status
        passed += status == "ok"
        failed += status == "FAIL"
        skipped += status == "skip"
        if status != "FAIL" and result.declared_skip is None:
            skip_list += [(rel[:-3], w, why) for w, why in result.skipped]
        elif result.declared_skip is not None:
            declared += 1
    only_err = [
        rel
        for rel in cases
        if rel not in applicable and os.path.exists(os.path.join(SNAPS, rel[:-3] + ".err"))
    ]
    no_snapshot = [rel[:-3] for rel in cases if rel not in applicable and rel not in only_err]
    if only_err:
        print(
            "not applicable (ffq rejects them: only a .err snapshot): %d case%s"
            % (len(only_err), "" if len(only_err) == 1 else "s")
        )
    if no_snapshot:
        print("not applicable (no snapshot yet): %s" % ", ".join(no_snapshot))
    if declared:
        print("skipped by `# e2e: skip`: %d case%s" % (declared, "" if declared == 1 else "s"))
    if skip_list:
        print("not run automatically (add `# e2e:` lines to these cases):")
        for stem, what, why in skip_list:
            print("    %s%s: %s" % (stem, (" " + what) if what else "", why))
    print("python %s, torch %s" % (sys.version.split()[0], torch.__version__))
    print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or not applicable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

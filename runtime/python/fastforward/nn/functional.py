"""Quantized functional operators, one per entry of ffq's operator table.

The functions are built at import time from the operator table (``_data/default.yaml`` in
the installed package, else ``optable/default.yaml`` of the source checkout), so the
table autoquant rewrites calls with and this module can never drift apart.

Each op takes the parameters of its table schema (same names, order and defaults) plus
keyword-only ``output_quantizer`` and ``strict_quantization``, and

1. asks the dispatcher (``fastforward.dispatcher``) for a kernel, passing every argument
   by keyword; a kernel found is called the same way and its result returned;
2. otherwise, under strict quantization (the global flag when ``strict_quantization`` is
   None), requires an output quantizer and a QuantizedTensor for every operand the table
   declares ``Quantized`` (``QuantizationError`` naming the op and argument);
3. dequantizes QuantizedTensor arguments, computes the float operation exactly as the
   original code did (the table's fallback, or the Python operator the op stands for, so
   that with stub quantizers results are bitwise those of the float model), and returns
   ``output_quantizer(result)`` (or ``result`` without a quantizer); a Python float result
   (an op on Python numbers) comes back as the Python float of its quantized value.
"""

from __future__ import annotations

import ast
import linecache
import operator
import os
import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F

from fastforward import dispatcher as _dispatcher
from fastforward.exceptions import QuantizationError
from fastforward.flags import get_strict_quantization
from fastforward.quantized_tensor import QuantizedTensor

__all__: List[str] = []  # filled from the table below

# --- the operator table ------------------------------------------------------------------------


class _Param(NamedTuple):
    name: str
    kind: str  # "Q", "OptQ", "MQ", "QorF", "SeqQ" or "" (plain)
    default: Any  # _NO_DEFAULT when required


class _Op(NamedTuple):
    name: str
    params: Tuple[_Param, ...]
    fallback: str


_NO_DEFAULT = object()


def table_path() -> str:
    """Path of the operator table the functional ops are built from."""
    from fastforward import _paths

    found = _paths.default_optable_path()  # packaged (wheel or editable) or the checkout's
    if found:
        return found
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [
        os.path.join(here, "_data", "default.yaml"),
        os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(here))), "optable", "default.yaml"),
    ]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise ImportError(
        "fastforward.nn.functional: operator table not found (looked at %s)" % ", ".join(candidates)
    )


def _split_top(text: str) -> List[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _kind(annotation: str) -> str:
    a = annotation.replace(" ", "")
    if a == "Quantized":
        return "Q"
    if a == "Optional[Quantized]":
        return "OptQ"
    if a in ("MaybeQuantized", "Optional[MaybeQuantized]"):
        return "MQ"
    if a.startswith("Quantized|"):
        return "QorF"
    if a == "Sequence[Quantized]":
        return "SeqQ"
    return ""


def _parse_schema(schema: str, fallback: str) -> _Op:
    m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*(->.*)?$", schema)
    if not m:
        raise ImportError("fastforward.nn.functional: cannot parse operator schema %r" % schema)
    params = []
    for part in _split_top(m.group(2)):
        if part in ("*", "/"):
            continue
        decl, _, default = part.partition("=")
        name, _, annotation = decl.partition(":")
        value = ast.literal_eval(default.strip()) if default.strip() else _NO_DEFAULT
        params.append(_Param(name.strip(), _kind(annotation.strip()), value))
    return _Op(m.group(1), tuple(params), fallback)


def _load_entries(path: str) -> List[Tuple[str, str]]:
    """(schema, fallback) per operator entry, in table order."""
    with open(path, encoding="utf-8") as source:
        text = source.read()
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        table = yaml.safe_load(text)
        entries = table.get("operators", []) if isinstance(table, dict) else table
        return [(e["op"], e["fallback"]) for e in entries]
    # Without PyYAML: the table's entries are "- op: "..."" lines followed by "fallback:".
    found = re.findall(r'^\s*-\s*op:\s*"([^"]*)"\s*\n\s*fallback:\s*(\S+)', text, re.M)
    return [(schema, fallback) for schema, fallback in found]


def _resolve(dotted: str) -> Optional[Callable[..., Any]]:
    obj: Any = {"torch": torch}.get(dotted.split(".")[0])
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# --- float implementations that differ from "call the fallback positionally" ------------------


def _is_default_alpha(alpha: Any) -> bool:
    # `a + b` has no alpha; torch.add's default is the int 1. A float 1.0 is passed on to
    # torch, which rejects it for integer tensors just as the original call would have.
    return type(alpha) is int and alpha == 1


def _add(input: Any, other: Any, alpha: Any = 1) -> Any:
    if _is_default_alpha(alpha):
        return operator.add(input, other)
    return torch.add(input, other, alpha=alpha)


def _sub(input: Any, other: Any, alpha: Any = 1) -> Any:
    if _is_default_alpha(alpha):
        return operator.sub(input, other)
    return torch.sub(input, other, alpha=alpha)


def _div(input: Any, other: Any, rounding_mode: Any = None) -> Any:
    # `a / b` (and torch.div without a rounding mode) is the Python operator: it also divides
    # Python numbers, which torch.div refuses
    if rounding_mode is None:
        return operator.truediv(input, other)
    return torch.div(input, other, rounding_mode=rounding_mode)


def _scaled_product(name: str) -> Callable[..., Any]:
    """torch.addmm / torch.baddbmm: beta and alpha are keyword-only in torch."""

    def impl(input: Any, first: Any, second: Any, beta: Any = 1, alpha: Any = 1) -> Any:
        return getattr(torch, name)(input, first, second, beta=beta, alpha=alpha)

    return impl


def _reduction(name: str) -> Callable[..., Any]:
    """torch.sum / torch.mean as the model called them: ``dtype`` (keyword-only in torch) only
    when given, and the full reduction without ``dim`` as ``torch.sum(input)`` (torch 1.13 has
    no ``dim=None``)."""

    def impl(input: Any, dim: Any = None, keepdim: Any = False, dtype: Any = None) -> Any:
        fn = getattr(torch, name)  # looked up at call time, as the other torch callables here
        kwargs = {} if dtype is None else {"dtype": dtype}
        if dim is None and keepdim is False:
            return fn(input, **kwargs)
        return fn(input, dim, keepdim, **kwargs)

    return impl


def _cumsum(input: Any, dim: Any, dtype: Any = None) -> Any:
    return torch.cumsum(input, dim) if dtype is None else torch.cumsum(input, dim, dtype=dtype)


def _rms_norm(input: Any, normalized_shape: Any, weight: Any = None, eps: Any = None) -> Any:
    if hasattr(F, "rms_norm"):  # torch >= 2.4
        return F.rms_norm(input, normalized_shape, weight, eps)
    return _rms_norm_reference(input, normalized_shape, weight, eps)


def _rms_norm_reference(input: Any, normalized_shape: Any, weight: Any, eps: Any) -> Any:
    """RMS normalisation for torch releases without F.rms_norm (same math as ATen's).

    y = x * rsqrt(mean(x**2 over the normalized dims) + eps) [* weight], computed in float32
    for half-precision inputs; eps defaults to the machine epsilon of the input dtype.
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = tuple(range(-len(normalized_shape), 0))
    upcast = input.dtype in (torch.float16, torch.bfloat16)
    x = input.float() if upcast else input
    if eps is None:
        eps = torch.finfo(x.dtype).eps
    result = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    if upcast:
        result = result.to(input.dtype)
    if weight is not None:
        result = result * weight
    return result


def _like_kwargs(dtype: Any, layout: Any, device: Any, requires_grad: Any, memory_format: Any) -> Dict[str, Any]:
    """Keyword arguments for torch.*_like: only those given, so torch applies its own defaults."""
    kwargs = {"requires_grad": requires_grad}
    for name, value in (("dtype", dtype), ("layout", layout), ("device", device),
                        ("memory_format", memory_format)):
        if value is not None:
            kwargs[name] = value
    return kwargs


def _like(name: str) -> Callable[..., Any]:
    # Looked up at call time, like every torch callable here: tests and tools patch torch.
    def impl(input: Any, *args: Any) -> Any:
        factory = getattr(torch, name)
        if name == "full_like":
            fill_value, rest = args[0], args[1:]
            return factory(input, fill_value, **_like_kwargs(*rest))
        return factory(input, **_like_kwargs(*args))

    return impl


_integer_module: List[Any] = []  # fastforward._integer, imported on first use


def _integer() -> Any:
    if not _integer_module:
        from fastforward import _integer as module

        _integer_module.append(module)
    return _integer_module[0]


def _max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                ceil_mode: Any = False) -> Any:
    """torch's max_pool2d, computed by libffqrt while the integer path is on (the same values;
    fastforward._integer.float_max_pool2d says when)."""
    y = _integer().float_max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
    if y is not None:
        return y
    return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def _avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: Any = False,
                count_include_pad: Any = True, divisor_override: Any = None) -> Any:
    """torch's avg_pool2d, computed by libffqrt while the integer path is on (the same bits;
    fastforward._integer.float_avg_pool2d says when)."""
    y = _integer().float_avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                    divisor_override)
    if y is not None:
        return y
    return F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _gelu_rounded(input: Any, approximate: Any = "none") -> Any:
    """torch's gelu where a quantizer rounds the result: the tanh approximation is computed by
    libffqrt while the integer path is on (within float rounding of torch's values, so the
    quantizer's code moves only where its input lies that close to a rounding boundary;
    fastforward._integer.float_activation says when). Without such a quantizer the float
    result is the model's own value and torch computes it (``_ROUNDED``)."""
    y = _integer().float_activation("gelu_tanh", input) if type(approximate) is str and approximate == "tanh" else None
    return F.gelu(input, approximate=approximate) if y is None else y


# Ops whose float computation differs from torch's bits by float rounding when the integer
# path computes it: used only when an output quantizer that is not a stub rounds the result.
# With no output quantizer or a QuantizerStub the result is a float the model goes on with,
# and an unquantized model must keep torch's bits (the float model's outputs, bit for bit).
_ROUNDED: Dict[str, Callable[..., Any]] = {"gelu": _gelu_rounded}


def _rounds(output_quantizer: Any) -> bool:
    """Whether ``output_quantizer`` may round its input (anything but None or a stub)."""
    if output_quantizer is None:
        return False
    is_stub = getattr(output_quantizer, "is_stub", None)
    return not (callable(is_stub) and is_stub())


_SPECIAL: Dict[str, Callable[..., Any]] = {
    "max_pool2d": _max_pool2d,
    "avg_pool2d": _avg_pool2d,
    "softmax": lambda input, dim, dtype=None: F.softmax(input, dim, dtype=dtype),
    "sigmoid": lambda input: torch.sigmoid(input),  # F.sigmoid minus torch 1.x's warning
    "gelu": lambda input, approximate="none": F.gelu(input, approximate=approximate),
    "rms_norm": _rms_norm,
    "matmul": operator.matmul,
    "add": _add,
    "sub": _sub,
    "mul": operator.mul,
    "div": _div,
    "floor_divide": operator.floordiv,
    "remainder": operator.mod,
    "pow": operator.pow,
    "bitwise_and": operator.and_,
    "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor,
    "bitwise_left_shift": operator.lshift,
    "bitwise_right_shift": operator.rshift,
    "bitwise_not": operator.invert,
    "negative": operator.neg,
    "positive": operator.pos,
    "addmm": _scaled_product("addmm"),
    "baddbmm": _scaled_product("baddbmm"),
    "sum": _reduction("sum"),
    "mean": _reduction("mean"),
    "cumsum": _cumsum,
    "index_add": lambda input, dim, index, source, alpha=1: torch.index_add(input, dim, index, source, alpha=alpha),
    "ones_like": _like("ones_like"),
    "zeros_like": _like("zeros_like"),
    "empty_like": _like("empty_like"),
    "full_like": _like("full_like"),
}


def _float_impl(op: _Op) -> Callable[..., Any]:
    special = _SPECIAL.get(op.name)
    if special is not None:
        return special
    resolved: List[Optional[Callable[..., Any]]] = []

    def call_fallback(*args: Any) -> Any:
        if not resolved:
            resolved.append(_resolve(op.fallback))
        fn = resolved[0]
        if fn is None:
            raise NotImplementedError(
                "fastforward.nn.functional.%s: %s does not exist in torch %s"
                % (op.name, op.fallback, torch.__version__)
            )
        return fn(*args)

    call_fallback.__name__ = op.name + "_float"
    return call_fallback


# --- the op runner -------------------------------------------------------------------------------


def _dq(value: Any) -> Any:
    """Dequantize a QuantizedTensor (or the QuantizedTensors of a list/tuple)."""
    if isinstance(value, QuantizedTensor):
        return value.dequantize()
    if isinstance(value, (list, tuple)) and any(isinstance(v, QuantizedTensor) for v in value):
        items = [v.dequantize() if isinstance(v, QuantizedTensor) else v for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _number(quantized: Any) -> Any:
    """An op on Python numbers (``1 / self.num_patches``, a config value) computed a Python
    float: its quantized value stays a Python float (the output quantizer still sees it, so
    range setting covers it). A 0-d QuantizedTensor there would be read as its raw integer by
    torch functions that take numbers (``torch.arange(qt)``, ``torch.full(shape, qt)``), which
    convert a tensor argument in C++ without asking ``__torch_function__``."""
    if isinstance(quantized, QuantizedTensor) and quantized.dim() == 0:
        return float(quantized.dequantize().detach())
    return quantized


def _has_tensor(values: Any) -> bool:
    return any(isinstance(v, torch.Tensor) or (isinstance(v, (list, tuple)) and _has_tensor(v)) for v in values)


def op_location(output_quantizer: Any) -> str:
    """Where in a model a functional op runs, for error messages: its output quantizer's
    path (recorded by quantize_model), as `` (output quantizer '0.fc.quantizer_linear')``."""
    path = getattr(output_quantizer, "_ff_path", None) if output_quantizer is not None else None
    return " (output quantizer %r)" % (path,) if path else ""


def _check_strict(op: _Op, values: Tuple[Any, ...], output_quantizer: Any) -> None:
    # Operands that are all Python numbers (`d // self.heads` with d from a shape) compute a
    # Python number, which a quantizer passes on: nothing to be strict about.
    if not _has_tensor(values):
        return
    if output_quantizer is None:
        raise QuantizationError(
            "fastforward.nn.functional.%s: no output_quantizer given under strict quantization "
            "(pass output_quantizer=..., or turn strict quantization off)" % op.name
        )
    for param, value in zip(op.params, values):
        kind = param.kind
        bad = False
        if kind == "Q":
            bad = not isinstance(value, QuantizedTensor)
        elif kind == "OptQ":
            bad = value is not None and not isinstance(value, QuantizedTensor)
        elif kind == "QorF":
            bad = isinstance(value, torch.Tensor) and not isinstance(value, QuantizedTensor)
        elif kind == "SeqQ":
            bad = any(not isinstance(v, QuantizedTensor) for v in value)
        if bad:
            raise QuantizationError(
                "fastforward.nn.functional.%s%s: argument %r is not a QuantizedTensor (got %s) "
                "under strict quantization; quantize it first (the quantizer before it may still "
                "be a QuantizerStub), or turn strict quantization off"
                % (op.name, op_location(output_quantizer), param.name, type(value).__name__)
            )


def _build(op: _Op) -> Callable[..., Any]:
    names = [p.name for p in op.params]
    namespace: Dict[str, Any] = {
        "_defaults": [p.default for p in op.params],
        "_op": op,
        "_impl": _float_impl(op),
        "_dq": _dq,
        "_check": _check_strict,
        "_registry": _dispatcher._registry,
        "_dispatch": _dispatcher.dispatch,
        "_after_miss": _dispatcher._after_miss,
        "_MISS": _dispatcher.MISS,
        "_strict": get_strict_quantization,
        "_number": _number,
        "_rounded": _ROUNDED.get(op.name),
        "_rounds": _rounds,
    }
    sig = []
    for i, p in enumerate(op.params):
        sig.append(p.name if p.default is _NO_DEFAULT else "%s=_defaults[%d]" % (p.name, i))
    sig.append("*")
    sig.append("output_quantizer=None")
    sig.append("strict_quantization=None")
    by_kw = ", ".join("%s=%s" % (n, n) for n in names)
    source = (
        "def {name}({sig}):\n"
        "    if strict_quantization is None:\n"
        "        strict_quantization = _strict()\n"
        "    entries = _registry.get({name!r})\n"
        "    if entries:\n"
        "        first = entries[0][2].fn\n"
        "        try_call = getattr(first, 'try_call', None)\n"
        "        if try_call is not None:\n"
        "            result = try_call({kw}, output_quantizer=output_quantizer,"
        " strict_quantization=strict_quantization)\n"
        "            if result is not _MISS:\n"
        "                return result\n"
        "            kernel = _after_miss(entries, first, (), dict({kw}, output_quantizer=output_quantizer,"
        " strict_quantization=strict_quantization))\n"
        "        else:\n"
        "            kernel = _dispatch({name!r}, {kw}, output_quantizer=output_quantizer,"
        " strict_quantization=strict_quantization)\n"
        "        if kernel is not None:\n"
        "            return kernel({kw}, output_quantizer=output_quantizer,"
        " strict_quantization=strict_quantization)\n"
        "    if strict_quantization:\n"
        "        _check(_op, ({args}), output_quantizer)\n"
        "{compute}"
        "    if output_quantizer is None:\n"
        "        return result\n"
        "    if type(result) is float:\n"
        "        return _number(output_quantizer(result))\n"
        "    return output_quantizer(result)\n"
    ).format(
        name=op.name,
        sig=", ".join(sig),
        kw=by_kw,
        args="".join(n + ", " for n in names),
        compute=(("    if _rounds(output_quantizer):\n"
                  "        result = _rounded({dq})\n"
                  "    else:\n"
                  "        result = _impl({dq})\n") if op.name in _ROUNDED else "    result = _impl({dq})\n").format(
            dq=", ".join("_dq(%s)" % n for n in names)),
    )
    FLOAT_IMPLS[op.name] = namespace["_impl"]
    filename = "<fastforward.nn.functional.%s>" % op.name
    exec(compile(source, filename, "exec"), namespace)
    # its lines for tracebacks through the op (a name in <...> is never read from disk)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    fn = namespace[op.name]
    fn.__module__ = __name__
    fn.__qualname__ = op.name
    fn.__doc__ = "Quantized %s (falls back to %s); see the module docstring." % (op.name, op.fallback)
    return fn


def _build_all() -> None:
    seen = set()
    for schema, fallback in _load_entries(table_path()):
        op = _parse_schema(schema, fallback)
        if op.name in seen:  # an overload of an op already built: the first entry wins
            continue
        seen.add(op.name)
        globals()[op.name] = _build(op)
        OPS[op.name] = op
        __all__.append(op.name)


OPS: Dict[str, _Op] = {}
# op name -> the float implementation its functional op falls back to, called with the
# schema's arguments in order (fastforward.nn.quantized_layers calls it directly where
# the functional op could only end there).
FLOAT_IMPLS: Dict[str, Callable[..., Any]] = {}
_build_all()

# Hand-written: attention is computed step by step, with a quantizer per intermediate
# (fastforward.nn.attention). It replaces the generic op built from its table entry.
from fastforward.nn.attention import scaled_dot_product_attention, sdpa_upcast  # noqa: E402, F401
__all__ += [name for name in ("scaled_dot_product_attention", "sdpa_upcast") if name not in __all__]


def dequantized(input: Any) -> Any:
    """``input``'s real values as a plain tensor when it is a QuantizedTensor (in a list or
    tuple: each element's); anything else as it is. ffq writes ``v =
    fastforward.nn.functional.dequantized(v)`` after binding a local that the code then
    changes in place (``y = kpts.clone()`` ... ``y[:, 0::3] = ...``): a QuantizedTensor
    cannot take values off its grid, and the float code meant a float tensor there. It also
    wraps the data of torch's constructors that copy a tensor's memory without asking it
    (``torch.tensor(v)``, ``torch.sparse_coo_tensor(i, v, size)``,
    ``torch.nested.nested_tensor([v])``): they would take a QuantizedTensor's integers for
    its values."""
    if isinstance(input, QuantizedTensor):
        return input.dequantize()
    if type(input) in (list, tuple) and any(isinstance(t, QuantizedTensor) for t in input):
        return type(input)(dequantized(t) for t in input)
    return input

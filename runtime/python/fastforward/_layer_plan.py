"""Call plans: the integer path of ``QuantizedLinear``, ``QuantizedConv2d``,
``QuantizedLayerNorm``, the activation layers (built-in and generated: ``adopt``) and a
generated batch norm followed by its activation, without the per-call Python work of the
generic one.

A layer's forward normally calls its input, weight and bias quantizers, then
``fastforward.nn.functional.linear`` / ``conv2d``, whose dispatcher finds the integer kernel,
which checks every operand again. That costs far more than the C kernel of a small layer.
Here the first forward of a layer on the integer path builds a plan: the packed weight and
float bias, the grid of the input quantizer, the output's grid (or float output) and the
result's QuantizationContext. Later forwards only check that nothing the plan was made from
has changed, quantize the input, run the kernel and wrap its result.

What a plan depends on, compared on every call (in place): the four quantizer modules
(identity, exact type, no forward hooks or quantizer overrides — range estimation adds
one —, and for a ``LinearQuantizer`` its bit width, granularity, storage dtype and its scale
and offset tensors: identity, version counter and data pointer), the weight and bias
(identity, version counter, data pointer), the conv attributes, and that the integer
kernel is still the dispatcher's first choice for the op. The plan runs only when the
integer path is on, autograd is off, nothing is exported or traced and no global module
hooks exist. Anything else (including inputs a plan does not cover: the input's shape,
dtype, layout and device are checked on every call) returns ``MISS`` and the layer runs
its ordinary forward, which computes the same values: the plan calls the same C
functions with the same arguments.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from fastforward import _ffqrt, _integer, dispatcher
from fastforward.flags import get_export_mode
from fastforward.quantization.affine import _kernels as _K
from fastforward.quantization.granularity import PerTensor
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["MISS", "activation", "adopt", "conv2d", "layer_norm", "linear"]

MISS = object()  # "no plan applies": the caller runs its ordinary forward
_enabled = [True]  # tests switch plans off to compare with the ordinary forward

_types: List[type] = []  # LinearQuantizer, QuantizerStub (imported on first use)


def _quantizer_types() -> List[type]:
    if not _types:
        from fastforward.nn.linear_quantizer import LinearQuantizer
        from fastforward.nn.quantizer import QuantizerStub

        _types[:] = [LinearQuantizer, QuantizerStub]
    return _types


def _tensor_state(t: Any) -> Optional[Tuple[Any, ...]]:
    """(tensor, version counter, data pointer, and for a one-element float32 tensor a
    FloatWatch of it and its value) of a plain tensor or parameter, (None,) for None, None
    for anything a plan cannot follow. The value catches writes through ``.data``, which
    leave the version counter unchanged (a quantizer's scale and offset are such tensors)."""
    if t is None:
        return (None,)
    if type(t) not in (torch.Tensor, torch.nn.Parameter):
        return None
    try:
        state = (t, t._version, t.data_ptr())
    except RuntimeError:  # inference tensors have no version counter
        return None
    if t.dtype == torch.float32 and t.numel() == 1 and t.is_cpu and t.layout == torch.strided:
        watch = _integer._watch(t)
        return state + (watch, watch.read())
    return state


def _plain_quantizer(q: Any) -> bool:
    return not (q._forward_hooks or q._forward_pre_hooks or q.__dict__.get("_quantizer_overrides"))


def _quantizer_state(q: Any) -> Optional[Tuple[Any, ...]]:
    """What a plan assumes of quantizer ``q``: (q, its type, bits, granularity, storage
    dtype), the last three None for a stub; None for a quantizer plans do not handle (the
    state of a LinearQuantizer's scale and offset tensors: ``_new_plan``)."""
    LinearQuantizer, QuantizerStub = _quantizer_types()
    t = type(q)
    if not _plain_quantizer(q) or t not in (LinearQuantizer, QuantizerStub):
        return None
    if t is QuantizerStub:
        return (q, t, None, None, None)
    return (q, t, q.num_bits, q.granularity, q.quantized_dtype)


def _global_ok(op: str) -> bool:
    """The integer path is on, would be chosen for ``op`` and nothing records the call."""
    if (not _enabled[0] or not _integer.enabled() or torch.is_grad_enabled() or get_export_mode()
            or _integer._global_hooks()):
        return False
    entries = dispatcher._registry.get(op)  # (read in place: this runs on every call)
    return bool(entries) and entries[0][2].fn is _integer.KERNELS[op]


class _Plan:
    """What one layer's calls reuse, and the state of the layer it was made for."""

    __slots__ = ("attrs", "idents", "quantizers", "tensors", "watches", "ok", "in_qp", "in_scale", "in_stub",
                 "weight", "packed", "bias", "how", "n", "k", "conv", "shapes", "static", "dynamic", "gamma",
                 "eps", "extra")

    def __init__(self, attrs: Tuple[Any, ...], idents: Tuple[Any, ...], quantizers: Tuple[Any, ...],
                 tensors: Tuple[Any, ...], watches: Tuple[Any, ...]) -> None:
        # the layer's state as flat lists, compared on every call (_unchanged)
        self.attrs = attrs
        self.idents = idents  # (dict, key, what dict.get(key, _ABSENT) gave)
        self.quantizers = quantizers  # (quantizer, type, bits, granularity, dtype); bits None: a stub
        self.tensors = tensors  # (tensor, version counter, data pointer)
        self.watches = watches  # (FloatWatch, value) of one-element float tensors
        self.ok = False
        self.static: Any = None  # linear: the prepared _ffqrt.StaticLinearCall for float inputs
        self.dynamic: Any = None  # linear without an input quantizer: the _ffqrt.DynamicLinearCall
        self.shapes: Dict[Tuple[Any, ...], Any] = {}


_plans: "weakref.WeakKeyDictionary[Any, _Plan]" = weakref.WeakKeyDictionary()

_SLOTS = ("input_quantizer", "weight_quantizer", "bias_quantizer", "output_quantizer")
_TENSORS = ("weight", "bias")
_ABSENT = object()  # dict.get's default in the identity checks: "no such key"


def _unchanged(plan: _Plan, m: Any, attrs: Tuple[Any, ...]) -> bool:
    """Whether layer ``m`` is in the state ``plan`` was made for: the same objects in its
    slots and its quantizers' parameter slots, quantizers of the same type and settings and
    without hooks, tensors not written since (version counter, data pointer, and the value
    of one-element float tensors, which ``.data`` writes change without a version bump).
    Compared in place from flat lists: this runs on every call."""
    if plan.attrs != attrs:
        return False
    for d, key, obj in plan.idents:
        if d.get(key, _ABSENT) is not obj:
            return False
    for q, kind, bits, granularity, dtype in plan.quantizers:
        if (type(q) is not kind or q._forward_hooks or q._forward_pre_hooks
                or q.__dict__.get("_quantizer_overrides")):
            return False
        if bits is not None and (q.num_bits != bits or q.granularity is not granularity
                                 or q.quantized_dtype != dtype):
            return False
    try:
        for t, version, ptr in plan.tensors:
            if t._version != version or t.data_ptr() != ptr:
                return False
    except RuntimeError:  # an inference tensor: no version counter
        return False
    for watch, value in plan.watches:
        if watch.read() != value:
            return False
    return True


def _new_plan(m: Any, attrs: Tuple[Any, ...], slots: Tuple[str, ...] = _SLOTS) -> Optional[_Plan]:
    """An empty plan recording m's state (its quantizers: the modules in ``slots``), or None
    when m is in a state plans do not handle."""
    idents: List[Any] = []
    quantizers: List[Any] = []
    tensors: List[Any] = []
    watches: List[Any] = []

    def tensor(d: Dict[str, Any], key: str) -> bool:
        t = d.get(key, _ABSENT)
        idents.append((d, key, t))
        state = _tensor_state(None if t is _ABSENT else t)
        if state is None:
            return False
        if state[0] is not None:
            tensors.append(state[:3])
            if len(state) > 3:
                watches.append(state[3:])
        return True

    mods = m._modules
    for name in slots:
        q = mods.get(name, _ABSENT)
        idents.append((mods, name, q))
        if q is None or q is _ABSENT:
            continue
        state = _quantizer_state(q)
        if state is None:
            return None
        quantizers.append(state)
        if state[2] is None:  # a stub
            continue
        params = q._parameters
        if params.get("scale") is None or not tensor(params, "scale"):
            return None
        if "offset" in params:
            if not tensor(params, "offset"):
                return None
        else:
            idents.append((params, "offset", _ABSENT))
            if not tensor(q._buffers, "offset"):
                return None
    for name in _TENSORS:
        if not tensor(m._parameters, name):
            return None
    return _Plan(attrs, tuple(idents), tuple(quantizers), tuple(tensors), tuple(watches))


def _plan_for(m: Any, op: str, attrs: Tuple[Any, ...], build: Callable[[Any, _Plan], bool],
              slots: Tuple[str, ...] = _SLOTS) -> Optional[_Plan]:
    if not _global_ok(op):
        return None
    plan = _plans.get(m)
    if plan is not None and _unchanged(plan, m, attrs):
        return plan if plan.ok else None
    plan = _new_plan(m, attrs, slots)
    if plan is None:
        return None  # e.g. quantizer overrides while ranges are estimated: kept plans wait
    try:
        with torch.no_grad():
            plan.ok = build(m, plan)
    except _integer._ERRORS:
        plan.ok = False  # the ordinary forward decides (and raises what it raises)
    _plans[m] = plan  # a failed build is remembered too, until the layer changes
    return plan if plan.ok else None


def _input_grid(m: Any, plan: _Plan, slot: str = "input_quantizer") -> bool:
    """The grid of the input quantizer (in ``slot``: a static 8-bit per-tensor one, or a
    stub); False: no plan."""
    LinearQuantizer = _quantizer_types()[0]
    qin = m._modules.get(slot)
    if type(qin) is LinearQuantizer:
        if (qin.num_bits != 8 or not isinstance(qin.granularity, PerTensor) or qin.has_uninitialized_params
                or qin.quantized_dtype not in (None, torch.int8, torch.float32)):
            return False
        scale, offset = qin.scale, qin.offset
        if scale.dtype != torch.float32 or (offset is not None and offset.dtype != torch.float32):
            return False  # quantize_raw would use torch ops: left to the ordinary path
        plan.in_qp = _integer._scalar_qparam(scale, offset)
        if plan.in_qp is None or not _integer._operand_scale(plan.in_qp.scale):
            return False
        plan.in_scale = scale.detach().reshape(1)
        plan.in_stub = False
    else:
        plan.in_qp, plan.in_scale, plan.in_stub = None, None, True
    return True


def _build_common(m: Any, plan: _Plan, ndim: int) -> Optional[QuantizedTensor]:
    """Input grid, output, bias; returns the quantized weight (None: no plan)."""
    QuantizerStub = _quantizer_types()[1]
    if not _input_grid(m, plan):
        return None
    plan.how = _integer._output(m.output_quantizer)
    if plan.how[0] not in (_integer._FLOAT, _integer._REQUANT):
        return None
    if m.bias_quantizer is not None and type(m.bias_quantizer) is not QuantizerStub:
        return None
    w = m.weight_quantizer(m.weight)
    if not isinstance(w, QuantizedTensor) or w.dim() != ndim or not _integer._weight_ok(w, ndim):
        return None
    n = int(w.shape[0])
    ok, plan.bias = _integer._float_bias(m.bias, n)
    if not ok or n == 0:
        return None
    plan.n = n
    return w


def _codes(plan: _Plan, x: Any) -> Optional[Tuple[torch.Tensor, _ffqrt.QParam]]:
    """The int8 codes of the layer's quantized input and their grid: what the input
    quantizer and the kernel's operand check would give (None: not a case plans cover)."""
    if plan.in_stub:
        act = _integer._activation(x)
        return None if act is None else (act.raw, act.qp)
    qp = plan.in_qp
    if type(x) is torch.Tensor:
        q = _float_input_codes(plan, x)
        return None if q is None else (q, qp)
    if isinstance(x, QuantizedTensor):
        found = _requantization(x, qp)
        if found is None:
            return None
        act, key, table = found
        _integer._note("requantize", "integer")
        if _integer._is_identity(key, table):
            return act.raw, qp  # the same codes: read them where they are (never written)
        return _integer._apply_table(act.raw, table), qp
    return None


def _float_input_codes(plan: _Plan, x: torch.Tensor) -> Optional[torch.Tensor]:
    """The int8 codes of a plain float32 input on the plan's input grid, as the input
    quantizer computes them (None: not a contiguous float32 CPU tensor, or C declined)."""
    if (x.dtype is not torch.float32 or not x.is_cpu or x.layout is not torch.strided or not x.is_contiguous()
            or x.numel() == 0):
        return None
    qp = plan.in_qp
    zp = None if qp.zero_point == 0 else _K._zero_point_tensor(qp.zero_point)  # None means 0
    flat = x.reshape(-1)
    q = _ffqrt.quantize_int8(flat, (flat.numel(),), plan.in_scale, zp)
    return None if q is None else q.view(x.shape)


def _requantization(x: QuantizedTensor, qp: _ffqrt.QParam) -> Optional[Tuple[Any, Tuple[Any, ...], torch.Tensor]]:
    """(operand, table key, table) of requantizing ``x``'s int8 codes onto ``qp`` by table,
    as fastforward._integer._requantize does it, or None (no int8 codes, or no table yet:
    the ordinary path makes it)."""
    act = _integer._activation(x)
    if act is None or act.raw.dtype != torch.int8:
        return None
    key = (act.qp.scale, act.qp.zero_point, qp.scale, qp.zero_point)
    table = _integer._requant_cache.get(key)
    return None if table is None else (act, key, table)


def _out_grid(how: Tuple[int, Any]) -> Optional[_ffqrt.QParam]:
    """The output grid the kernel requantizes onto, or None for a float output."""
    return how[1][0] if how[0] == _integer._REQUANT else None


def _dense_rows(x: torch.Tensor, k: int) -> bool:
    """A float32 CPU input the kernels read as it is: dense, rows of ``k``, not empty."""
    shape = x.shape
    return (x.dtype is torch.float32 and x.is_cpu and x.layout is torch.strided and bool(shape)
            and shape[-1] == k and x.is_contiguous() and x.numel() != 0)


# --- linear ----------------------------------------------------------------------------------


def _build_linear(m: Any, plan: _Plan) -> bool:
    w = _build_common(m, plan, 2)
    if w is None:
        return False
    n, k = int(w.shape[0]), int(w.shape[1])
    if k == 0 or k > _ffqrt.LINEAR_MAX_K:
        return False
    plan.k = k
    plan.packed = _integer._packed_weight(w, "linear", (n, k), _ffqrt.linear_pack)
    if plan.packed is None:
        return False
    plan.static = plan.dynamic = None
    if not plan.in_stub:
        how = plan.how
        plan.static = _ffqrt.StaticLinearCall(plan.in_qp, plan.packed, plan.bias, _out_grid(how))
    else:
        plan.dynamic = _ffqrt.DynamicLinearCall(plan.packed, plan.bias)
    return True


def _linear_dynamic(plan: _Plan, x: torch.Tensor) -> Any:
    """A float input to a layer without an input quantizer, on the dynamic path: quantized
    per call inside libffqrt, as the functional op's dynamic kernel does it; a static output
    quantizer then quantizes the float result, as there."""
    if not _dense_rows(x, plan.k):
        return MISS
    y = plan.dynamic.rows(x, x.shape[:-1] + (plan.n,))
    _integer._note("linear", "integer")
    how = plan.how
    if how[0] == _integer._REQUANT:
        return how[1][1](y)
    return y


def linear(m: Any, x: Any) -> Any:
    """``m(x)`` for a QuantizedLinear ``m`` through its plan, or MISS."""
    plan = _plan_for(m, "linear", (), _build_linear)
    if plan is None:
        return MISS
    if plan.static is not None and type(x) is torch.Tensor:
        # a float input: quantized inside the kernel's own call (the codes never reach Python)
        if not _dense_rows(x, plan.k):
            return MISS
        y = plan.static.rows(x, x.shape[:-1] + (plan.n,))
        _integer._note("linear", "integer")
        how = plan.how
        return y if how[0] == _integer._FLOAT else _integer._finish(y, how)
    if plan.in_stub and type(x) is torch.Tensor and _integer._state["dynamic"]:
        return _linear_dynamic(plan, x)
    codes = _codes(plan, x)
    if codes is None or codes[0].dim() < 1 or int(codes[0].shape[-1]) != plan.k:
        return MISS
    raw, qp = codes
    how = plan.how
    a = raw.reshape(-1, plan.k).contiguous()
    y = _ffqrt.linear(a, qp, plan.packed, plan.bias, out=_out_grid(how))
    _integer._note("linear", "integer")
    return _integer._finish(y.reshape(tuple(raw.shape[:-1]) + (plan.n,)), how)


# --- conv2d ----------------------------------------------------------------------------------


def _conv_geometry(plan: _Plan, dims: Tuple[int, ...], layout: int) -> Optional[List[Any]]:
    """``[shape, pack, StaticConvCall or None, ConvCall or None]`` for inputs of ``dims``
    (n, c, h, w) in ``layout``, made once per geometry (the calls on first use by a float
    input, by codes); None when the kernel cannot take this geometry."""
    kh, kw, stride, pad, dilation, groups = plan.conv
    key = tuple(dims) + (plan.n, kh, kw, stride, pad, dilation, groups, layout)  # (a torch.Size holds ints)
    found = plan.shapes.get(key)
    if found is None:
        shape = _integer._conv_shape(key)
        packed = None if shape is None else _integer._conv_pack(plan.weight, shape, 2)
        if packed is None:
            return None
        if len(plan.shapes) > 64:
            plan.shapes.clear()
        found = plan.shapes[key] = [shape, packed, None, None]
    return found


def _conv_float(plan: _Plan, x: torch.Tensor) -> Any:
    """A float input: quantized inside the convolution's own C call (``StaticConvCall``, one
    per input geometry)."""
    if (x.dtype is not torch.float32 or not x.is_cpu or x.layout is not torch.strided or x.dim() != 4
            or x.shape[1] != plan.k or x.numel() == 0):
        return MISS
    how = plan.how
    if x.is_contiguous():
        layout = 0
    elif _ffqrt.channels_last_dense(x):  # the output keeps the input's memory format, as torch's
        layout = _ffqrt.CONV_IN_NHWC | _ffqrt.CONV_OUT_NHWC
    else:
        return MISS
    found = _conv_geometry(plan, x.shape, layout)
    if found is None:
        return MISS
    if found[2] is None:
        found[2] = _ffqrt.StaticConvCall(plan.in_qp, found[1], plan.bias, found[0], _out_grid(how))
    y = found[2](x)
    _integer._note("conv2d", "integer")
    return y if how[0] == _integer._FLOAT else _integer._finish(y, how)


def _build_conv(m: Any, plan: _Plan) -> bool:
    if m.padding_mode != "zeros":
        return False  # the layer pads explicitly first
    w = _build_common(m, plan, 4)
    if w is None:
        return False
    b = {"stride": m.stride, "padding": m.padding, "dilation": m.dilation, "groups": m.groups}
    args = _integer._conv_args(b, 2, w.shape)
    if args is None:
        return False
    kh, kw, _, _, _, groups = args
    c_out = int(w.shape[0])
    if c_out % groups or int(w.shape[1]) * kh * kw > _ffqrt.LINEAR_MAX_K:
        return False
    plan.conv = args
    plan.k = int(w.shape[1]) * groups  # input channels
    plan.weight = w  # packed per input geometry (the cache makes one pack for them all)
    return True


def conv2d(m: Any, x: Any) -> Any:
    """``m(x)`` for a QuantizedConv2d ``m`` (batched input) through its plan, or MISS."""
    attrs = (m.stride, m.padding, m.dilation, m.groups, m.padding_mode)
    plan = _plan_for(m, "conv2d", attrs, _build_conv)
    if plan is None:
        return MISS
    if not plan.in_stub and type(x) is torch.Tensor:
        return _conv_float(plan, x)
    codes = _codes(plan, x)
    if codes is None or codes[0].dim() != 4 or int(codes[0].shape[1]) != plan.k:
        return MISS
    raw, qp = codes
    how = plan.how
    layout = 0
    if not raw.is_contiguous() and _ffqrt.channels_last_dense(raw):  # the output keeps the input's format
        layout = _ffqrt.CONV_IN_NHWC | _ffqrt.CONV_OUT_NHWC
    found = _conv_geometry(plan, raw.shape, layout)
    if found is None:
        return MISS
    if found[3] is None:
        found[3] = _ffqrt.ConvCall(found[1], plan.bias, found[0], _out_grid(how))
    y = found[3](raw if layout & _ffqrt.CONV_IN_NHWC else raw.contiguous(), qp)
    _integer._note("conv2d", "integer")
    return _integer._finish(y, how)


# --- layer norm ----------------------------------------------------------------------------------


def _build_layer_norm(m: Any, plan: _Plan) -> bool:
    """Layer norm over the last dimension onto a static output grid, with a quantized weight
    (or none) and a quantized or float bias (or none), as ``fastforward._integer``'s
    layer-norm kernel takes them, the weight and bias quantized and dequantized once here."""
    shape, eps = plan.attrs
    if len(shape) != 1 or not 0 < int(shape[0]) <= _ffqrt.LAYER_NORM_MAX_D:
        return False
    if type(eps) not in (float, int) or not 0.0 <= eps < math.inf:
        return False
    if not _input_grid(m, plan):
        return False
    plan.how = _integer._output(m.output_quantizer)
    if plan.how[0] != _integer._REQUANT:
        return False
    d = int(shape[0])
    values = []
    for slot, name in (("weight_quantizer", "weight"), ("bias_quantizer", "bias")):
        t, q = m._parameters.get(name), m._modules.get(slot)
        value = t if t is None or q is None else q(t)
        if name == "weight" and value is not None and not isinstance(value, QuantizedTensor):
            return False  # a float weight: strict quantization's rule applies, on the ordinary path
        ok, v = _integer._float_bias(value, d)
        if not ok:
            return False
        values.append(v)
    plan.gamma, plan.bias = values
    plan.k, plan.eps = d, float(eps)
    return True


def layer_norm(m: Any, x: Any) -> Any:
    """``m(x)`` for a QuantizedLayerNorm ``m`` through its plan, or MISS."""
    plan = _plan_for(m, "layer_norm", (tuple(m.normalized_shape), m.eps), _build_layer_norm)
    if plan is None or (isinstance(x, QuantizedTensor) and x.dtype != torch.float32):
        return MISS
    codes = _codes(plan, x)
    if codes is None or codes[0].dim() < 1 or int(codes[0].shape[-1]) != plan.k:
        return MISS
    raw, qp = codes
    how = plan.how
    run = _integer._by_rows(_integer._Act(raw, qp), how,
                            lambda x2: _ffqrt.layer_norm8(x2, qp, plan.gamma, plan.bias, plan.eps, how[1][0]))
    y = run()
    _integer._note("layer_norm", "integer")
    return y


# --- activations ---------------------------------------------------------------------------------

# The built-in activation layers (QuantizedRelu, ...: their input quantizer, then the op onto
# the output quantizer's grid), by their op; quantized_layers fills it in.
ACTIVATIONS: Dict[type, str] = {}


class _Activation:
    """How a layer computes an activation: ``op`` (a table op of fastforward._integer) of
    the input quantized by the quantizer in slot ``qin``, onto the grid of the one in
    ``qout``, with the op's arguments after the input named ``names`` (signature order) and
    read per call by ``args`` (a function of the layer and its input); ``build`` makes its
    plans."""

    __slots__ = ("op", "qin", "qout", "names", "args", "build", "slots")

    def __init__(self, op: str, qin: str, qout: str, names: Tuple[str, ...],
                 args: Callable[[Any, Any], Tuple[Any, ...]]) -> None:
        self.op, self.qin, self.qout, self.names, self.args = op, qin, qout, names, args
        self.slots = (qin, qout)
        self.build = lambda m, plan: _build_activation(m, plan, self)


_builtin: Dict[type, _Activation] = {}  # the _Activation of each ACTIVATIONS class, made on first use


def _build_activation(m: Any, plan: _Plan, how: _Activation) -> bool:
    """A static 8-bit input grid (a LinearQuantizer: a stub leaves the input as it comes) and
    a static output grid: the layer is a table of the input grid's 256 codes."""
    if not _input_grid(m, plan, how.qin) or plan.in_stub:
        return False
    plan.how = _integer._output(m._modules.get(how.qout))
    if plan.how[0] != _integer._REQUANT:
        return False
    plan.extra = _integer._unary_extra(dict(zip(how.names, plan.attrs)), how.op)
    return plan.extra is not None


def _builtin_how(t: type) -> Optional[_Activation]:
    """The _Activation of built-in activation layer class ``t`` (None: not one)."""
    how = _builtin.get(t)
    if how is None:
        op = ACTIVATIONS.get(t)
        if op is None:
            return None
        how = _builtin[t] = _Activation(op, "input_quantizer", "output_quantizer",
                                        ("approximate",) if op == "gelu" else (), lambda m, x: m._op_args(x))
    return how


def activation(m: Any, x: Any) -> Any:
    """``m(x)`` for a built-in activation layer ``m`` through its plan, or MISS."""
    how = _builtin_how(type(m))
    return MISS if how is None else _activation(m, x, how)


def _activation_table(m: Any, x: Any, how: _Activation) -> Optional[Tuple[_Plan, torch.Tensor]]:
    """(the plan of ``m`` computing ``how`` for input ``x``, the op's table from the plan's
    input grid onto its output grid), or None when no plan applies."""
    plan = _plan_for(m, how.op, how.args(m, x), how.build, how.slots)
    if plan is None:
        return None
    qy, quantizer = plan.how[1]
    return plan, _integer._lut(how.op, plan.extra, plan.in_qp, quantizer, qy)


def _activation(m: Any, x: Any, how: _Activation) -> Any:
    """``m(x)`` through the plan of ``m`` computing ``how``, or MISS: the input's
    codes on the input grid (a float input quantized straight to int8: the input quantizer's
    own result is never seen, so its float raw data are not written; a quantized input
    requantized by its table, composed with the op's) through the op's table, the values of
    the quantizer and the functional op's integer kernel, one after the other."""
    op = how.op
    found = _activation_table(m, x, how)
    if found is None:
        return MISS
    plan, table = found
    qp = plan.in_qp
    if _integer._is_identity(_integer._lut_key(op, plan.extra, qp, plan.how[1][0]), table):
        return MISS  # the functional op shares its input's raw data then: the ordinary forward
    if type(x) is torch.Tensor:
        origin = _integer.bn_codes_of(x)
        if origin is not None and x.is_contiguous():
            # a batch norm's result: its codes on the input grid a table a channel, composed
            # with the op's (made once per pair), looked up on the codes it was computed from
            composed = _composed_channels(plan, origin.form, table)
            if composed is not None:
                y = _ffqrt.lut8_channels(origin.codes, composed)
                if y is not None:
                    _integer._note(op, "integer")
                    return _integer._finish(y, plan.how)
        codes = _float_input_codes(plan, x)
        if codes is None:
            return MISS
    elif isinstance(x, QuantizedTensor):
        found_requant = _requantization(x, qp)
        if found_requant is None:
            return MISS
        act, key, requant = found_requant
        if not _integer._is_identity(key, requant):
            # the requantization table then the op's, as one table (made once per pair)
            found = plan.shapes.get(key)
            if found is None or found[0] is not requant or found[1] is not table:
                if len(plan.shapes) > 64:
                    plan.shapes.clear()
                found = plan.shapes[key] = (requant, table, table[requant.view(torch.uint8).long()])
            table = found[2]
        codes = act.raw
        _integer._note("requantize", "integer")
    else:
        return MISS
    y = _integer._apply_table(codes, table)
    _integer._note(op, "integer")
    return _integer._finish(y, plan.how)


# --- generated activation modules ------------------------------------------------------------

# ffq autoquant writes a torch activation module (nn.Hardswish, nn.LeakyReLU, a library's own
# activation class) as
#
#     def forward(self, input):
#         input = self.quantizer_input(input)
#         return fastforward.nn.functional.hardswish(input, self.inplace, output_quantizer=self.quantizer_hardswish)
#
# A quantized class whose forward is exactly that (its input quantized by one quantizer slot,
# then one table op onto another slot's grid, the op's other arguments constants or
# attributes of the module) gets the built-in activation layers' plan: ``adopt`` recognizes
# the forward in its source and wraps it.


def _self_attr(node: Any, self_name: str) -> Optional[str]:
    """``a`` for the expression ``self.a``, else None."""
    if type(node).__name__ == "Attribute" and type(node.value).__name__ == "Name" and node.value.id == self_name:
        return node.attr
    return None


def _functional_op(func: Any) -> Optional[str]:
    """``op`` for the callee ``fastforward.nn.functional.op``, else None."""
    parts = []
    while type(func).__name__ == "Attribute":
        parts.append(func.attr)
        func = func.value
    if type(func).__name__ != "Name":
        return None
    parts.append(func.id)
    parts.reverse()
    return parts[3] if len(parts) == 4 and parts[:3] == ["fastforward", "nn", "functional"] else None


# the arguments after the input that an op's table depends on (besides inplace, which it
# does not: the input is dequantized into a new tensor first, on the simulated path too)
def _table_names(op: str) -> Tuple[str, ...]:
    if op == "gelu":
        return ("approximate",)
    if op == "pow":
        return ("exponent",)
    return _integer._TABLE_OPTIONS.get(op, ())


def _forward_tree(forward: Any, registered: bool, wanted: Callable[[Any], bool]) -> Any:
    """The parsed source (an ``ast.Module`` holding one FunctionDef) of method ``forward``
    when it takes self and one argument (no defaults, decorators, keyword-only, * or **
    parameters), else None; also None when ``wanted(code)`` (the caller's cheap tests on the
    code object, made before the source is read) is false, or without a source.
    ``registered``: the lines of a source without a file (``<ffq autoquant X>``) were just
    registered for it; otherwise they are not read (an earlier source under the same name
    may still be there)."""
    import ast
    import inspect
    import textwrap

    code = getattr(forward, "__code__", None)
    if (code is None or code.co_argcount != 2 or code.co_kwonlyargcount or code.co_flags & 0x0C
            or not wanted(code)):
        return None
    if code.co_filename.startswith("<") and not registered:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(forward)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    if len(tree.body) != 1 or type(tree.body[0]).__name__ != "FunctionDef":
        return None
    fn = tree.body[0]
    a = fn.args
    if (fn.name != code.co_name or fn.decorator_list or len(a.args) != 2 or a.vararg or a.kwarg or a.kwonlyargs
            or a.defaults or getattr(a, "posonlyargs", None)):
        return None
    return tree


def _activation_of(forward: Any, registered: bool) -> Optional[_Activation]:
    """The activation that function ``forward`` (a method) computes, when its source is the
    pattern above; None otherwise (no source, anything else in it). ``registered``: the
    lines of a source without a file (``<ffq autoquant X>``) were just registered for it;
    otherwise they are not read (an earlier source under the same name may still be there)."""
    tree = _forward_tree(forward, registered, lambda code: (
        "output_quantizer" in code.co_consts or ("output_quantizer",) in code.co_consts))
    # (cheap test first: a call with output_quantizer= keeps the name in co_consts)
    if tree is None:
        return None
    fn = tree.body[0]
    a = fn.args
    self_name, arg = a.args[0].arg, a.args[1].arg
    body = list(fn.body)
    if body and type(body[0]).__name__ == "Expr" and isinstance(getattr(body[0].value, "value", None), str):
        body = body[1:]  # the docstring
    if len(body) != 2 or type(body[0]).__name__ != "Assign" or type(body[1]).__name__ != "Return":
        return None
    assign, ret = body
    # <q> = self.<qin>(<arg>)
    if len(assign.targets) != 1 or type(assign.targets[0]).__name__ != "Name" or type(assign.value).__name__ != "Call":
        return None
    quantized = assign.targets[0].id
    call = assign.value
    qin = _self_attr(call.func, self_name)
    if (qin is None or call.keywords or len(call.args) != 1 or type(call.args[0]).__name__ != "Name"
            or call.args[0].id != arg):
        return None
    # return fastforward.nn.functional.<op>(<q>, <args>..., output_quantizer=self.<qout>)
    call = ret.value
    if type(call).__name__ != "Call":
        return None
    op = _functional_op(call.func)
    if op not in _integer._TABLE_OPS or not call.args or type(call.args[0]).__name__ != "Name":
        return None
    if call.args[0].id != quantized or quantized == self_name:
        return None
    params = list(_integer._SIGNATURES.get(op, (("input",), {}))[0][1:])
    allowed = set(_table_names(op)) | {"inplace"}
    names: List[str] = []
    sources: List[Tuple[bool, Any]] = []  # (True, attribute name) or (False, constant)

    def operand(name: str, node: Any) -> bool:
        attr = _self_attr(node, self_name)
        if attr is not None:
            sources.append((True, attr))
        elif type(node).__name__ == "Constant" and type(node.value) in (int, float, str, bool, type(None)):
            sources.append((False, node.value))
        else:
            return False
        names.append(name)
        return name in allowed and name in params and names.count(name) == 1

    rest = call.args[1:]
    if len(rest) > len(params) or any(type(n).__name__ == "Starred" for n in rest):
        return None
    for name, node in zip(params, rest):
        if not operand(name, node):
            return None
    qout = None
    for kw in call.keywords:
        if kw.arg == "output_quantizer":
            qout = _self_attr(kw.value, self_name)
            if qout is None:
                return None
        elif kw.arg is None or not operand(kw.arg, kw.value):
            return None
    if qout is None or qout == qin:
        return None
    # only the table's arguments, in the signature's order (inplace: not one of them)
    table = _table_names(op)
    order = [names.index(n) if n in names else -1 for n in table]
    defaults = _integer._SIGNATURES.get(op, ((), {}))[1]
    if any(i < 0 and n not in defaults for i, n in zip(order, table)):
        return None
    # the table's arguments, then the module's other attributes the call reads (read per call
    # too, as the forward would: a missing one then raises there)
    fixed = tuple(sources[i] if i >= 0 else (False, defaults[n]) for i, n in zip(order, table))
    fixed += tuple(s for i, s in enumerate(sources) if s[0] and i not in order)

    def args(m: Any, x: Any) -> Tuple[Any, ...]:
        return tuple(getattr(m, v) if is_attr else v for is_attr, v in fixed)

    return _Activation(op, qin, qout, table, args)


def adopt(cls: type, registered: bool = False) -> bool:
    """Give the quantized class ``cls`` the activation layers' plan when its own forward
    computes one (the pattern above): its forward is wrapped to try the plan first. The
    source is read where ``inspect`` finds it: a file, or (``registered``) the lines
    ``fastforward.quantization.workflow`` has just registered for ffq's generated module.
    Whether it did."""
    import functools
    import sys

    forward = cls.__dict__.get("forward")
    if forward is None or getattr(forward, "_ff_plan", False):
        return False
    how = _activation_of(forward, registered)
    if how is not None and forward.__globals__.get("fastforward") is sys.modules.get("fastforward"):
        # (the name the forward calls the op through is this package)

        @functools.wraps(forward)
        def planned_forward(self: Any, input: Any) -> Any:
            y = _activation(self, input, how)
            return forward(self, input) if y is MISS else y

        planned_forward._ff_activation = how  # type: ignore[attr-defined]
    else:
        spec = _batch_norm_act_of(forward, registered)
        if spec is None:
            return False

        @functools.wraps(forward)
        def planned_forward(self: Any, x: Any) -> Any:
            callee, args, kwargs = spec.head(self, x)  # (the statements before the batch norm)
            y = _bn_activation(self, spec, callee, args, kwargs)
            if y is MISS:  # the forward's last statements
                y = callee(*args, **kwargs)
                for name in spec.children:
                    y = getattr(self, name)(y)
            return y

        planned_forward._ff_batch_norm_act = spec  # type: ignore[attr-defined]
    planned_forward._ff_plan = True  # type: ignore[attr-defined]
    cls.forward = planned_forward  # type: ignore[attr-defined]
    return True


# --- a batch norm and its activation -----------------------------------------------------------

# A module whose forward ends with a batch norm of its input whose result only passes through
# its own child modules (timm's BatchNormAct2d, as ffq autoquant writes it):
#
#     def forward(self, x):
#         ...                                   # (checks, the batch norm's arguments)
#         x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, bn_training, ...)
#         x = self.drop(x)
#         x = self.act(x)
#         return x
#
# With the integer path, the batch norm's float result is written, then read only by the
# activation, whose plan takes its codes from the batch norm's input codes (a table a
# channel). When the children before the activation return their input as it is (nn.Identity)
# and the activation has a plan, ``adopt`` makes the forward run its statements before the
# batch norm as they are, then (``_bn_activation``) look the activation's codes up from the
# batch norm's input codes in one C call: the float result is never made.


class _BatchNormAct:
    """A recognized forward: ``head(self, x)`` runs the statements before the batch norm and
    returns (the callee, its positional and keyword arguments); ``children``: the child
    modules the result passes through, in order."""

    __slots__ = ("head", "children")

    def __init__(self, head: Callable[..., Any], children: Tuple[str, ...]) -> None:
        self.head, self.children = head, children


def _batch_norm_act_of(forward: Any, registered: bool) -> Optional[_BatchNormAct]:
    """The _BatchNormAct of function ``forward`` when its source ends as above; None
    otherwise. (``registered``: as for ``_activation_of``.)"""
    import ast

    tree = _forward_tree(forward, registered, lambda code: not code.co_freevars and "batch_norm" in code.co_names)
    if tree is None:
        return None
    code = forward.__code__
    fn = tree.body[0]
    a = fn.args
    self_name = a.args[0].arg
    body = fn.body
    # return <v>
    if len(body) < 3 or type(body[-1]).__name__ != "Return" or type(body[-1].value).__name__ != "Name":
        return None
    v = body[-1].value.id
    if v == self_name:
        return None

    def assigned_call(stmt: Any) -> Any:
        """The call of ``<v> = <call>``, else None."""
        if (type(stmt).__name__ != "Assign" or len(stmt.targets) != 1 or type(stmt.targets[0]).__name__ != "Name"
                or stmt.targets[0].id != v or type(stmt.value).__name__ != "Call"):
            return None
        return stmt.value

    # <v> = self.<child>(<v>), one or more
    children: List[str] = []
    i = len(body) - 2
    while i > 0:
        call = assigned_call(body[i])
        child = None if call is None else _self_attr(call.func, self_name)
        if (child is None or call.keywords or len(call.args) != 1 or type(call.args[0]).__name__ != "Name"
                or call.args[0].id != v):
            break
        children.insert(0, child)
        i -= 1
    # <v> = <callee>(<args>, <keywords>): the batch norm (the callee checked per call)
    call = assigned_call(body[i])
    if not children or call is None or any(type(n).__name__ == "Starred" for n in call.args) or any(
            kw.arg is None for kw in call.keywords):
        return None
    if type(call.func).__name__ not in ("Name", "Attribute"):
        return None
    if any(type(n).__name__ in ("Return", "Yield", "YieldFrom", "Await") for st in body[:i] for n in ast.walk(st)):
        return None  # (a return before the batch norm: the head would return it)
    # head: the statements before it as they are, then the callee and its arguments
    ret = ast.Return(value=ast.Tuple(elts=[call.func, ast.Tuple(elts=list(call.args), ctx=ast.Load()),
                                           ast.Dict(keys=[ast.Constant(value=kw.arg) for kw in call.keywords],
                                                    values=[kw.value for kw in call.keywords])], ctx=ast.Load()))
    ast.copy_location(ret, body[i])
    fn.body = body[:i] + [ret]
    fn.name = "_ff_batch_norm_head"
    ast.fix_missing_locations(tree)
    ast.increment_lineno(tree, code.co_firstlineno - 1)
    try:
        scope: Dict[str, Any] = {}
        exec(compile(tree, code.co_filename, "exec"), forward.__globals__, scope)
    except Exception:  # (anything: the forward stays as it is)
        return None
    return _BatchNormAct(scope["_ff_batch_norm_head"], tuple(children))


def _returns_its_input(m: Any) -> bool:
    """Whether module ``m`` is nn.Identity (or a quantized class of it whose forward is one
    ``return input``) without hooks."""
    if not isinstance(m, torch.nn.Identity) or m._forward_hooks or m._forward_pre_hooks or m._backward_hooks:
        return False
    fwd = type(m).forward
    if fwd is torch.nn.Identity.forward:
        return True
    code = getattr(fwd, "__code__", None)
    ident = torch.nn.Identity.forward.__code__
    return (code is not None and code.co_argcount == 2 and not code.co_flags & 0x0C and not code.co_freevars
            and code.co_code == ident.co_code and code.co_names == ident.co_names)


def _activation_how(m: Any) -> Optional[_Activation]:
    """The _Activation of module ``m`` (a built-in activation layer or an adopted one)."""
    t = type(m)
    how = _builtin_how(t)
    return how if how is not None else getattr(getattr(t, "forward", None), "_ff_activation", None)


def _bn_activation(m: Any, spec: _BatchNormAct, callee: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """``self.act(F.batch_norm(...))`` (children before the activation returning their input
    as it is) as one lookup of the batch norm's input codes, or MISS: the values of the
    batch norm's integer kernel, then the activation's plan on its result (which looks the
    same codes up through the same composed table)."""
    if callee is not torch.nn.functional.batch_norm or not _global_ok("batch_norm"):
        return MISS
    mods = m._modules
    act = mods.get(spec.children[-1])
    for name in spec.children[:-1]:
        if not _returns_its_input(mods.get(name)):
            return MISS
    if act is None or act._forward_hooks or act._forward_pre_hooks or act._backward_hooks:
        return MISS
    how = _activation_how(act)
    if how is None:
        return MISS
    names, defaults = _integer._SIGNATURES["batch_norm"]
    b = _integer._bind(names, defaults, args, kwargs)
    x = None if b is None else b["input"]
    if not isinstance(x, QuantizedTensor):
        return MISS
    try:
        found = _integer._bn_form_of(b)
    except _integer._ERRORS:
        return MISS
    if found is None or found[2] == 2 or not found[0].is_contiguous():
        return MISS
    raw, form = found[0], found[1]
    op = how.op
    # (a table mapping every code to itself too: the ordinary forward's result then shares the
    # raw data of the input quantizer's, which nothing else sees; the same values and grid)
    found_table = _activation_table(act, x, how)
    if found_table is None:
        return MISS
    plan, table = found_table
    composed = _composed_channels(plan, form, table)
    if composed is None:
        return MISS
    y = _ffqrt.lut8_channels(raw, composed)
    if y is None:
        return MISS
    _integer._note("batch_norm", "integer")
    _integer._note(op, "integer")
    return _integer._finish(y, plan.how)


def _composed_channels(plan: _Plan, form: Any, table: torch.Tensor) -> Optional[torch.Tensor]:
    """The batch norm ``form``'s values quantized onto the plan's input grid a channel at a
    time, composed with the op's ``table`` ([channels, 256]; made once per pair), or None."""
    per_channel = form.codes_table(plan.in_scale, plan.in_qp)
    if per_channel is None:
        return None
    key = ("bn", id(per_channel))
    found = plan.shapes.get(key)
    if found is None or found[0] is not per_channel or found[1] is not table:
        if len(plan.shapes) > 64:
            plan.shapes.clear()
        composed = table[per_channel.view(torch.uint8).long()].contiguous()
        found = plan.shapes[key] = (per_channel, table, composed)
    return found[2]

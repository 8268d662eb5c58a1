"""Quantizers as ONNX QuantizeLinear / DequantizeLinear nodes (torch only, no onnx import).

In export mode a static affine quantizer does not build a ``QuantizedTensor``: it returns
the quantized-dequantized value through one of the autograd functions below, whose
``symbolic`` method tells torch's TorchScript-based ONNX exporter which nodes to write:

* an activation becomes ``QuantizeLinear -> DequantizeLinear`` with the quantizer's scale and
  zero point as constants;
* a parameter (a weight) is quantized here, once, with fastforward's own kernels, and becomes
  an integer constant feeding ``DequantizeLinear``: the file stores the integers.

The mapping of fastforward's grid onto ONNX's: fastforward computes
``raw = clamp(round(x / s - r), -2^(b-1), 2^(b-1) - 1)`` and ``x' = (raw + r) * s`` with
``r = round(offset)``; ONNX computes ``q = saturate(round(x / s) + zp)`` and
``x' = (q - zp) * s``. With ``int8`` storage, ``zp = -r`` and ``q = raw``; with ``uint8``,
``zp = 128 - r`` and ``q = raw + 128``. Both need the zero point inside the storage type,
i.e. real 0 within (or at the edge of) the quantizer's range; ``ExportError`` otherwise.

What ONNX cannot express is an ``ExportError``: activation quantizers of other than 8
bits (4 and 16 bits from opset 21; weights of 2 to 8 bits are stored exactly as int8, 4-bit ones as
INT4 from opset 21), granularities other than per-tensor and per-channel along one
dimension, except on stored integers (weights) from opset 21, where ONNX's DequantizeLinear
takes per-block scales (``block_size``). 4-bit types pass through a marker op
(``INT4_MARKER``) that the export rewrites, because torch has no 4-bit dtype and its
TorchScript exporter stops at opset 20.

For the ``("qnn", "onnx")`` format (``Annotations`` active) a quantizer leaves no QDQ nodes:
an activation becomes a marker op (``ENCODED_MARKER``) on the float tensor and a parameter a
float constant behind a marker (``PARAM_MARKER``), each carrying the index of a record in the
active ``Annotations``. The export turns the markers into encodings and removes them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch

from fastforward.exceptions import ExportError
from fastforward.quantization.affine import _kernels as K

__all__ = ["Annotations", "EmissionLog", "dequantize_stored", "quantize_dequantize"]


class EmissionLog:
    """Counts the QuantizeLinear/DequantizeLinear groups emitted while it is active (the
    export uses it to notice a quantizer that changed its input without emitting any)."""

    active: List["EmissionLog"] = []

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> "EmissionLog":
        EmissionLog.active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        EmissionLog.active.remove(self)


# Set by fastforward.export.export for the duration of an export: the ONNX opset the file
# will declare. From opset 21 ONNX has 4-bit QDQ types.
TARGET_OPSET = [17]

# Marker op around a constant that must become a 4-bit ONNX tensor (INT4 for int8 values,
# UINT4 for uint8) or a 16-bit one (UINT16 for int32 values); the export rewrites it into an
# initializer and removes the domain.
INT4_MARKER = "ffq::As4Bit"
# The stored 4-bit weights of the running trace, (integers, scale, zero point) each: they are
# written as plain int8 constants (a marker would hide the weight's shape from torch, and a
# convolution's export reads its kernel's shape), and the 4-bit rewrite finds their
# DequantizeLinear nodes by these values.
FOUR_BIT_WEIGHTS: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []


# Markers of the ("qnn", "onnx") format: ENCODED_MARKER(x) says "x is quantized as record k",
# PARAM_MARKER(constant) says "this constant is the parameter of record k".
ENCODED_MARKER = "ffq::Encoded"
PARAM_MARKER = "ffq::Param"


class Annotation:
    """What one quantizer call looked like to the export: the quantizer's module path, whether
    it quantized a parameter (and that parameter's name), the bit width, the channel axis
    (None: per tensor), the scale (float32, [] or [channels]) and the rounded offset r. A
    per-block parameter has axis 0 and ``block_size`` (blocks along dimension 1), its scale
    and r one entry per block, row-major ([channels][blocks])."""

    def __init__(self, path: str, param: Optional[str], bits: int, axis: Optional[int], scale: torch.Tensor,
                 rounded_offset: torch.Tensor, block_size: Optional[int] = None) -> None:
        self.path, self.param, self.bits, self.axis = path, param, bits, axis
        self.scale, self.rounded_offset, self.block_size = scale, rounded_offset, block_size


class Annotations:
    """While active, quantizers emit markers instead of QDQ nodes and append an ``Annotation``
    to ``records``. ``param_names`` maps ``id(parameter)`` to its name in the model; the
    export's quantizer guards keep ``paths`` (the quantizer running, innermost last) and its
    module hooks ``modules`` (the module running, innermost last)."""

    active: List["Annotations"] = []

    def __init__(self, param_names: Dict[int, str], snap_weights: bool, blocks: bool = False) -> None:
        self.records: List[Annotation] = []
        self.param_names = param_names
        self.snap_weights = snap_weights
        self.blocks = blocks  # per-block encodings can be written (the 1.0.0 layout)
        self.paths: List[str] = []
        self.modules: List[str] = []

    def __enter__(self) -> "Annotations":
        Annotations.active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        Annotations.active.remove(self)

    def held_name(self) -> str:
        """A name for integers that are no model parameter: a frozen weight's quantizer path
        without its ``_quantizer`` suffix ("fc.weight"), else the module holding them."""
        if self.paths:
            path = self.paths[-1]
            return path[: -len("_quantizer")] if path.endswith("_quantizer") else path
        return (self.modules[-1] + "." if self.modules and self.modules[-1] else "") + "quantized_param"

    def add(self, param: Optional[str], bits: int, axis: Optional[int], scale: torch.Tensor,
            rounded_offset: torch.Tensor, block_size: Optional[int] = None) -> int:
        path = self.paths[-1] if self.paths else ""
        self.records.append(Annotation(path, param, bits, axis, scale, rounded_offset, block_size))
        return len(self.records) - 1


def _annotations() -> Optional[Annotations]:
    return Annotations.active[-1] if Annotations.active else None


def int4_available() -> bool:
    return TARGET_OPSET[0] >= 21


def blocks_available() -> bool:
    """ONNX's DequantizeLinear takes per-block scales (``block_size``) from opset 21."""
    return TARGET_OPSET[0] >= 21


def _note_emission() -> None:
    for log in EmissionLog.active:
        log.count += 1


def _axis_of(granularity: Any, ndim: int) -> Optional[int]:
    """None for per-tensor, the channel axis for per-channel along one dimension."""
    from fastforward.quantization.granularity import PerChannel, PerTensor

    if isinstance(granularity, PerTensor):
        return None
    if isinstance(granularity, PerChannel) and len(granularity.channel_dims) == 1:
        dim = granularity.channel_dims[0]
        if not -ndim <= dim < ndim:
            raise ExportError("channel dimension %d does not exist in a %d-dimensional tensor" % (dim, ndim))
        return dim % ndim
    raise ExportError(
        "granularity %r cannot be expressed as ONNX QuantizeLinear/DequantizeLinear (only "
        "PerTensor() and PerChannel(dim) with a single dimension can)" % (granularity,)
    )


def _parameters(data: torch.Tensor, params: Any) -> Tuple[int, Optional[int], torch.Tensor, torch.Tensor]:
    """(bits, axis, scale float32 [n] or [], rounded offset r as int64 [n] or [])."""
    bits = K.check_num_bits(params.num_bits, maximum=16)  # (ONNX: 8- and 16-bit integers)
    axis = _axis_of(params.granularity, data.dim())
    shape = tuple(data.shape)
    tile = K.tile_shape(shape, params.granularity.tile_size(data.shape))
    with torch.no_grad():
        scale = params.scale if isinstance(params.scale, torch.Tensor) else torch.tensor(float(params.scale))
        scale = K.per_tile(scale.detach(), shape, tile, "scale").to(torch.float32)
        K.check_scale(scale)
        if params.offset is None:
            r = torch.zeros(scale.shape, dtype=torch.int64)
        else:
            offset = params.offset if isinstance(params.offset, torch.Tensor) else torch.tensor(float(params.offset))
            r = K.round_half_even(K.per_tile(offset.detach(), shape, tile, "offset").double()).to(torch.int64)
    if axis is None:
        scale, r = scale.reshape(()), r.reshape(())
    _check_zero_on_grid(r, bits)
    return bits, axis, scale.contiguous(), r.cpu()


def _check_zero_on_grid(r: torch.Tensor, bits: int) -> None:
    """ExportError unless every rounded offset puts real 0 on the grid (an ONNX zero point
    must be an integer of the storage type)."""
    lo, hi = -(2 ** (bits - 1)) + 1, 2 ** (bits - 1)
    if bool(((r < lo) | (r > hi)).any()):
        bad = r[(r < lo) | (r > hi)].reshape(-1)[0].item()
        raise ExportError(
            "the range of this quantizer does not contain 0 (rounded offset %d is outside "
            "[%d, %d]); an ONNX zero point must lie on the integer grid. An asymmetric quantizer "
            "gets such a range from data of one sign only, all negative (a log_softmax output, "
            "-x.abs()) or all positive with allow_one_sided=False: quantize that value "
            "symmetrically, or set its range to include 0 (quantizer.quantization_range = "
            "(min(lo, 0), max(hi, 0)))" % (bad, lo, hi)
        )


def _blocked_parameters(data: torch.Tensor, params: Any) -> Tuple[int, int, int, torch.Tensor, torch.Tensor]:
    """(bits, axis, block size, scale, r) of stored integers as ONNX's blocked
    DequantizeLinear (opset 21) takes them: scale and r of the data's rank, the data's size
    on every dimension but ``axis``, where one entry covers ``block size`` elements. The
    tiles of any granularity fit: ``axis`` is the last dimension a tile spans more than one
    element of, and the entries are repeated along the other such dimensions."""
    bits = K.check_num_bits(params.num_bits)
    shape = tuple(data.shape)
    tile = K.tile_shape(shape, params.granularity.tile_size(data.shape))
    if not shape or any(t < 1 or d % t for d, t in zip(shape, tile)):
        raise ExportError("granularity %r does not split a tensor of shape %s into whole blocks"
                          % (params.granularity, shape))
    grid = [d // t for d, t in zip(shape, tile)]
    wide = [i for i, t in enumerate(tile) if t > 1]
    axis = wide[-1] if wide else len(shape) - 1
    with torch.no_grad():
        scale = params.scale if isinstance(params.scale, torch.Tensor) else torch.tensor(float(params.scale))
        scale = K.per_tile(scale.detach(), shape, tile, "scale").to(torch.float32).reshape(grid)
        K.check_scale(scale)
        if params.offset is None:
            r = torch.zeros(scale.shape, dtype=torch.int64)
        else:
            offset = params.offset if isinstance(params.offset, torch.Tensor) else torch.tensor(float(params.offset))
            offset = K.per_tile(offset.detach(), shape, tile, "offset").double().reshape(grid)
            r = K.round_half_even(offset).to(torch.int64)
        for i in wide[:-1]:
            scale, r = scale.repeat_interleave(tile[i], dim=i), r.repeat_interleave(tile[i], dim=i)
    _check_zero_on_grid(r, bits)
    return bits, axis, tile[axis], scale.contiguous(), r.cpu()


def _stored_parameters(data: torch.Tensor, params: Any
                       ) -> Tuple[int, Optional[int], Optional[int], torch.Tensor, torch.Tensor]:
    """(bits, axis, block size or None, scale, r) of integers stored in the file (a weight, a
    frozen or held one): per tensor or per channel at any opset; other granularities (per
    block: ff.quantize's 4-bit weights, per tile) as a blocked DequantizeLinear from opset 21."""
    from fastforward.quantization.granularity import PerChannel, PerTensor

    g = params.granularity
    simple = isinstance(g, PerTensor) or (isinstance(g, PerChannel) and len(g.channel_dims) == 1)
    if simple or not blocks_available():
        try:
            bits, axis, scale, r = _parameters(data, params)
        except ExportError as exc:
            if simple:
                raise
            raise ExportError("%s; stored integers (weights) export with it from opset 21 as a blocked "
                              "DequantizeLinear (export(..., opset_version=21))" % exc) from None
        return bits, axis, None, scale, r
    return _blocked_parameters(data, params)


class _Untraced:
    """Suspends torch's tracer: values computed inside are constants to the trace."""

    def __enter__(self) -> None:
        self.state = torch._C._get_tracing_state()
        if self.state is not None:
            torch._C._set_tracing_state(None)

    def __exit__(self, *exc: Any) -> None:
        if self.state is not None:
            torch._C._set_tracing_state(self.state)


def _fake_quantize(data: torch.Tensor, params: Any) -> torch.Tensor:
    """fastforward's exact quantize-dequantize value of ``data`` (not traced)."""
    from fastforward.quantization.affine._affine import dequantize_static, quantize_static

    with torch.no_grad(), _Untraced():
        raw, _, _ = quantize_static(data.detach(), params.scale, params.offset, params.granularity,
                                    params.num_bits)
        return dequantize_static(raw, params).to(data.dtype)


def _traced_value(x: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    # The tracer needs the function's output computed from its input inside forward (its
    # recorded body is replaced by ``symbolic``); the value is fastforward's own.
    out = torch.empty_like(x, dtype=value.dtype)
    return out.copy_(value)


class _TracedAs(torch.autograd.Function):
    """Returns ``spec[0]`` (fastforward's value) computed from ``x``; a subclass's
    ``symbolic`` is what the ONNX trace records in its place."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, spec: Tuple[Any, ...]) -> torch.Tensor:  # type: ignore[override]
        return _traced_value(x, spec[0])


def _marked(g: Any, constant: torch.Tensor) -> Any:
    """The constant ``constant`` through the 4-bit marker."""
    return g.op(INT4_MARKER, g.op("Constant", value_t=constant))


class _ActivationQDQ(_TracedAs):
    @staticmethod
    def symbolic(g: Any, x: Any, spec: Tuple[Any, ...]) -> Any:
        _, scale, zero_point, axis, four_bit = spec
        s = g.op("Constant", value_t=scale)
        z = _marked(g, zero_point) if four_bit else g.op("Constant", value_t=zero_point)
        kwargs = {} if axis is None else {"axis_i": axis}
        q = g.op("QuantizeLinear", x, s, z, **kwargs)
        return g.op("DequantizeLinear", q, s, z, **kwargs)


class _StoredDQ(_TracedAs):
    @staticmethod
    def symbolic(g: Any, x: Any, spec: Tuple[Any, ...]) -> Any:
        _, stored, scale, zero_point, axis, four_bit, block = spec
        s = g.op("Constant", value_t=scale)
        q, z = g.op("Constant", value_t=stored), g.op("Constant", value_t=zero_point)
        if four_bit:
            FOUR_BIT_WEIGHTS.append((stored, scale, zero_point))
        kwargs = {} if axis is None else {"axis_i": axis}
        if block is not None:
            kwargs["block_size_i"] = block
        out = g.op("DequantizeLinear", q, s, z, **kwargs)
        if block is not None:
            out.setType(x.type().with_dtype(torch.float32))  # (torch's opset-20 inference knows no blocks)
        return out


class _EncodedMarker(_TracedAs):
    @staticmethod
    def symbolic(g: Any, x: Any, spec: Tuple[Any, ...]) -> Any:
        out = g.op(ENCODED_MARKER, x, index_i=spec[1])
        out.setType(x.type())  # torch's shape inference does not know the marker
        return out


class _ParamMarker(_TracedAs):
    @staticmethod
    def symbolic(g: Any, x: Any, spec: Tuple[Any, ...]) -> Any:
        value, index, stored = spec
        constant = g.op("Constant", value_t=stored)
        out = g.op(PARAM_MARKER, constant, index_i=index)
        out.setType(constant.type())
        return out


def _block_parameters(notes: Annotations, data: torch.Tensor, params: Any
                      ) -> Tuple[int, int, torch.Tensor, torch.Tensor]:
    """(bits, block size, scale [n], r [n]) of a per-block parameter QNN can take: blocks of
    one size along dimension 1, one channel per row of dimension 0, in the 1.0.0 layout."""
    from fastforward.quantization.granularity import PerBlock

    g = params.granularity
    ndim = data.dim()

    def dims(values: Any) -> Tuple[int, ...]:
        return tuple(d % ndim for d in values) if ndim else ()

    if not isinstance(g, PerBlock) or ndim < 2 or dims(g.block_dims) != (1,) or dims(g.per_channel_dims) != (0,):
        raise ExportError("granularity %r has no QNN encoding (per-block encodings need blocks along "
                          "dimension 1 of a parameter, one channel per row of dimension 0)" % (g,))
    if not notes.blocks:
        raise ExportError("per-block quantization needs the 1.0.0 encodings layout (encoding_version='1.0.0'); "
                          "the 0.6.1 layout has no per-block encodings")
    bits = K.check_num_bits(params.num_bits, maximum=16)  # (ONNX: 8- and 16-bit integers)
    shape = tuple(data.shape)
    tile = K.tile_shape(shape, g.tile_size(data.shape))
    with torch.no_grad():
        scale = K.per_tile(params.scale.detach(), shape, tile, "scale").to(torch.float32)
        K.check_scale(scale)
        if params.offset is None:
            r = torch.zeros(scale.shape, dtype=torch.int64)
        else:
            offset = K.per_tile(params.offset.detach(), shape, tile, "offset")
            r = K.round_half_even(offset.double()).to(torch.int64)
    return bits, int(g.block_sizes[0]), scale.contiguous(), r.cpu()


def _encodable(notes: Annotations, data: torch.Tensor, params: Any, is_param: bool
               ) -> Tuple[int, Optional[int], Optional[int], torch.Tensor, torch.Tensor]:
    """(bits, axis, block size, scale, r) of a quantizer QNN encodings can describe."""
    from fastforward.quantization.granularity import PerBlock

    with _Untraced():
        if isinstance(params.granularity, PerBlock) and is_param:
            bits, block, scale, r = _block_parameters(notes, data, params)
            _check_encodable(bits, None, is_param)
            return bits, 0, block, scale, r
        bits, axis, scale, r = _parameters(data, params)
    _check_encodable(bits, axis, is_param)
    return bits, axis, None, scale, r


def _check_encodable(bits: int, axis: Optional[int], is_param: bool) -> None:
    if not 4 <= bits <= 32:
        raise ExportError("%d-bit quantization has no QNN encoding (4 to 32 bits have)" % bits)
    if axis is not None and (not is_param or axis != 0):
        raise ExportError(
            "per-channel quantization along dimension %d of %s has no QNN encoding (QNN encodings "
            "hold per-channel scales only for parameters, along their first dimension); "
            "format=\"onnx_qdq\" exports it (a DequantizeLinear with axis=%d)"
            % (axis, "a parameter" if is_param else "an activation", axis))


def _annotate(notes: Annotations, data: torch.Tensor, params: Any) -> torch.Tensor:
    param = _is_parameter(data)
    bits, axis, block, scale, r = _encodable(notes, data, params, param)
    value = _fake_quantize(data, params)
    _note_emission()
    if param:
        index = notes.add(notes.param_names.get(id(data)) or notes.held_name(), bits, axis, scale, r, block)
        with _Untraced():
            stored = (value if notes.snap_weights else data.detach()).to(torch.float32).clone()
        return _ParamMarker.apply(data, (value, index, stored))
    index = notes.add(None, bits, axis, scale, r)
    return _EncodedMarker.apply(data, (value, index))


def _is_parameter(data: torch.Tensor) -> bool:
    return isinstance(data, torch.nn.Parameter)


def quantize_dequantize(data: torch.Tensor, params: Any) -> torch.Tensor:
    """Export-mode static affine quantization: the value fastforward computes, recorded in
    the traced graph as QDQ nodes (parameters: as a stored integer constant + DQ).

    Outside ``fastforward.export.export`` (export mode switched on by hand), a quantizer
    ONNX cannot express just returns its quantized-dequantized value."""
    try:
        return _emit(data, params)
    except ExportError:
        if EmissionLog.active or torch._C._get_tracing_state() is not None:
            raise  # while tracing, an untraced value would be a constant: never silently
        return _fake_quantize(data, params)


def _emit(data: torch.Tensor, params: Any) -> torch.Tensor:
    if data.dtype != torch.float32:
        raise ExportError("only float32 tensors export as QDQ, got %s" % data.dtype)
    notes = _annotations()
    if notes is not None:
        return _annotate(notes, data, params)
    if _is_parameter(data):
        with _Untraced():  # plain arithmetic on the parameters, not part of the graph
            bits, axis, block, scale, r = _stored_parameters(data, params)
        if bits > 8:
            raise ExportError("%d-bit weights cannot be stored as 8-bit integers" % bits)
        value = _fake_quantize(data, params)
        from fastforward.quantization.affine._affine import quantize_static

        with torch.no_grad(), _Untraced():
            raw, _, _ = quantize_static(data.detach(), params.scale, params.offset, params.granularity, bits)
        stored = raw.to(torch.int8)
        _note_emission()
        four = bits == 4 and int4_available()
        return _StoredDQ.apply(data, (value, stored, scale, (-r).to(torch.int8), axis, four, block))
    with _Untraced():
        bits, axis, scale, r = _parameters(data, params)
    value = _fake_quantize(data, params)
    four = bits == 4 and int4_available()
    sixteen = bits == 16 and int4_available()  # (ONNX's INT16 / UINT16 QDQ types: opset 21 too)
    if bits != 8 and not four and not sixteen:
        raise ExportError(
            "%d-bit activation quantization has no ONNX QuantizeLinear type at opset %d "
            "(8-bit activations export, 4- and 16-bit ones from opset 21; weights of 2 to 8 "
            "bits are stored as int8)" % (bits, TARGET_OPSET[0])
        )
    half = 2 ** (bits - 1)
    # From opset 21 an 8-bit grid without offset is stored as uint8 with zero point 128 as
    # well (the same 256 levels, q = raw + 128): ONNX Runtime 1.31's default optimisation
    # fails to load a graph whose int8 QDQ pair it propagates through a Reshape / Transpose
    # at opset 21 (the new QuantizeLinear gets output_dtype INT8, then its int8 -> uint8
    # rewrite changes the zero point only: "output_dtype INT8 does not match y_zero_point
    # type UINT8"); uint8 pairs it leaves alone. 4-bit grids keep INT4. 16-bit grids are
    # always UINT16 with zero point 32768 - r (QNN's 16-bit activations are unsigned), held
    # as int32 while tracing (torch writes no uint16 constant) and marked for the rewrite.
    if sixteen:
        zero_point = (half - r).to(torch.int32)
    elif bool((r == 0).all()) and not (bits == 8 and TARGET_OPSET[0] >= 21):
        zero_point = torch.zeros(r.shape, dtype=torch.int8)
    else:
        zero_point = (half - r).to(torch.uint8)
    _note_emission()
    four = four or sixteen  # (both pass their zero point through the marker)
    return _ActivationQDQ.apply(data, (value, scale, zero_point, axis, four))


def dequantize_stored(reference: torch.Tensor, ints: torch.Tensor, params: Any) -> torch.Tensor:
    """Export-mode dequantization of integers already stored (a frozen weight, a
    QuantizedTensor the model holds): a constant feeding DequantizeLinear. ``reference`` is
    a tensor of the integers' shape that the tracer sees as the node's input."""
    from fastforward.quantization.affine._affine import dequantize_static

    notes = _annotations()
    if notes is not None:
        bits, axis, block, scale, r = _encodable(notes, ints, params, True)
        with torch.no_grad(), _Untraced():
            value = dequantize_static(ints.to(torch.float32), params).to(torch.float32)
            stored = value.clone()
        _note_emission()
        index = notes.add(notes.held_name(), bits, axis, scale, r, block)
        return _ParamMarker.apply(reference, (value, index, stored))
    with _Untraced():
        bits, axis, block, scale, r = _stored_parameters(ints, params)
    if bits > 8:
        raise ExportError("%d-bit integers held by the model (a frozen or pre-quantized weight) have no "
                          "8-bit ONNX storage" % bits)
    with torch.no_grad(), _Untraced():
        value = dequantize_static(ints.to(torch.float32), params).to(torch.float32)
    _note_emission()
    four = bits == 4 and int4_available()
    return _StoredDQ.apply(reference, (value, ints.to(torch.int8), scale, (-r).to(torch.int8), axis, four, block))

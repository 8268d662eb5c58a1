"""Affine quantization: parameter records, range <-> parameter conversion and the
context-style ``AffineQuantizationFunction`` (static and dynamic parameters)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Tuple, Union

import torch

from fastforward.common import ensure_tensor, safe_for_torch_load
from fastforward.exceptions import ExportError, QuantizationError
from fastforward.flags import get_export_mode
from fastforward.quantization.affine import _kernels as K
from fastforward.quantization.function import (
    QuantizationContext,
    QuantizationFunction,
    QuantizationParameters,
    _IdentityGrad,
)
from fastforward.quantization.granularity import Granularity, PerTensor

__all__ = [
    "AffineQuantizationFunction",
    "DynamicAffineQuantParams",
    "DynamicParamInferenceFn",
    "StaticAffineQuantParams",
    "integer_maximum",
    "integer_minimum",
    "parameters_for_range",
    "quantization_range",
]

TensorLike = Union[torch.Tensor, float, int]


def integer_minimum(num_bits: float) -> float:
    """Smallest grid value for ``num_bits``: ``-2^(b-1)``."""
    return -(2 ** (num_bits - 1))


def integer_maximum(num_bits: float) -> float:
    """Largest grid value for ``num_bits``: ``2^(b-1) - 1``."""
    return 2 ** (num_bits - 1) - 1


def parameters_for_range(
    min_range: TensorLike,
    max_range: TensorLike,
    num_bits: float,
    symmetric: bool,
    allow_one_sided: bool = True,
) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """(scale, offset or None) mapping ``[min_range, max_range]`` onto the integer grid.

    Symmetric two-sided ranges give ``offset=None``; otherwise (asymmetric, or symmetric
    with every min >= 0 and ``allow_one_sided``) ``qmin`` maps to min and ``qmax`` to max.
    Scales are clamped below at float32 epsilon, so a constant range still gives a valid
    positive scale.
    """
    lo = ensure_tensor(min_range).to(torch.float32)
    hi = ensure_tensor(max_range).to(torch.float32)
    if lo.shape != hi.shape:
        raise ValueError(
            "parameters_for_range: min and max shapes differ (%s vs %s)"
            % (tuple(lo.shape), tuple(hi.shape))
        )
    eps = torch.finfo(torch.float32).eps
    one_sided = bool(allow_one_sided) and lo.numel() > 0 and bool((lo >= 0).all())
    if symmetric and not one_sided:
        half = 2 ** (num_bits - 1)
        scale = torch.maximum(lo.abs() / half, hi.abs() / (half - 1)).clamp_min(eps)
        return scale, None
    if one_sided:
        lo = torch.zeros_like(lo)
    scale = ((hi - lo) / (2**num_bits - 1)).clamp_min(eps)
    offset = lo / scale - integer_minimum(num_bits)
    return scale, offset


def quantization_range(
    scale: TensorLike, offset: Optional[TensorLike], num_bits: float
) -> Tuple[torch.Tensor, torch.Tensor]:
    """(min, max) representable with ``scale``/``offset`` (offset unrounded; None = 0)."""
    scale = ensure_tensor(scale)
    o = 0.0 if offset is None else offset
    return (integer_minimum(num_bits) + o) * scale, (integer_maximum(num_bits) + o) * scale


@dataclasses.dataclass
class StaticAffineQuantParams(QuantizationParameters):
    """Parameters of static affine quantization (one scale/offset per tile)."""

    scale: torch.Tensor
    offset: Optional[torch.Tensor]
    num_bits: float
    granularity: Granularity = dataclasses.field(default_factory=PerTensor)
    quantized_dtype: Optional[torch.dtype] = None
    dequantize_dtype: Optional[torch.dtype] = None


DynamicParamInferenceFn = Callable[["DynamicAffineQuantParams", torch.Tensor], Tuple[torch.Tensor, Optional[torch.Tensor]]]


@dataclasses.dataclass
class DynamicAffineQuantParams(QuantizationParameters):
    """Parameters of dynamic affine quantization (scale/offset derived from each input)."""

    num_bits: float
    granularity: Granularity = dataclasses.field(default_factory=PerTensor)
    symmetric: bool = False
    allow_one_sided: bool = True
    quantized_dtype: Optional[torch.dtype] = None
    dequantize_dtype: Optional[torch.dtype] = None
    parameter_inference_fn: Optional[DynamicParamInferenceFn] = None


_MANTISSA = {
    torch.float64: 53, torch.float32: 24, torch.float16: 11, torch.bfloat16: 8,
}


def _check_storage(dtype: torch.dtype, num_bits: int) -> None:
    if dtype.is_floating_point:
        mant = _MANTISSA.get(dtype)
        if mant is None:
            finfo = torch.finfo(dtype)
            mant = int(round(-torch.log2(torch.tensor(finfo.eps)).item())) + 1
        if mant + 1 < num_bits:
            raise RuntimeError("storage dtype %s cannot hold %d-bit integers exactly" % (dtype, num_bits))
    elif dtype != torch.bool:
        bits = torch.iinfo(dtype).bits
        if not dtype.is_signed:  # the grid is signed: -2^(b-1) .. 2^(b-1) - 1 would wrap around
            raise RuntimeError("storage dtype %s cannot hold the negative half of a %d-bit grid "
                               "(-%d .. %d); use a signed dtype" % (dtype, num_bits, 2 ** (num_bits - 1),
                                                                    2 ** (num_bits - 1) - 1))
        if bits < num_bits:
            raise RuntimeError("storage dtype %s cannot hold %d-bit integers exactly" % (dtype, num_bits))
    else:
        raise RuntimeError("storage dtype %s cannot hold %d-bit integers" % (dtype, num_bits))


def _check_static_data(data: Any) -> None:
    """TypeError unless ``data`` is a floating-point or (static quantization only) an
    integer tensor; bool tensors are refused."""
    if isinstance(data, torch.Tensor) and not data.is_floating_point() and not data.is_complex():
        if data.dtype == torch.bool:
            raise TypeError("quantization: a tensor of dtype torch.bool cannot be quantized")
        return
    K.check_float_data(data)


def _tile(data: torch.Tensor, granularity: Granularity) -> Tuple[int, ...]:
    return K.tile_shape(data.shape, granularity.tile_size(data.shape))


def quantize_static(
    data: torch.Tensor,
    scale: TensorLike,
    offset: Optional[TensorLike],
    granularity: Granularity,
    num_bits: float,
    quantized_dtype: Optional[torch.dtype] = None,
) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
    """(raw, scale per tile, offset per tile) for static affine quantization of ``data``."""
    bits = K.check_num_bits(num_bits)
    _check_static_data(data)
    # number parameters: tensors of the input's dtype, or of the default dtype for integer
    # input (whose values are computed in the scale's float dtype, as torch promotes them)
    float_dtype = data.dtype if data.is_floating_point() else torch.get_default_dtype()
    scale_t = scale if isinstance(scale, torch.Tensor) else torch.tensor(float(scale), dtype=float_dtype, device=data.device)
    offset_t = None
    if offset is not None:
        offset_t = offset if isinstance(offset, torch.Tensor) else torch.tensor(float(offset), dtype=float_dtype, device=data.device)
    K.check_scale(scale_t)
    tile = _tile(data, granularity)
    storage = quantized_dtype or data.dtype
    _check_storage(storage, bits)
    if data.numel() == 0:
        raw = torch.empty(data.shape, dtype=storage, device=data.device)
        if storage.is_floating_point and torch.is_grad_enabled() and data.requires_grad:
            raw = _PassThrough.apply(data, raw)  # (an empty gradient for the empty input)
        return raw, scale_t, offset_t
    if not data.is_floating_point():
        data = data.to(scale_t.dtype if scale_t.is_floating_point() else float_dtype)
    s = K.per_tile(scale_t, data.shape, tile, "scale")
    o = None if offset_t is None else K.per_tile(offset_t, data.shape, tile, "offset")
    if storage.is_floating_point and torch.is_grad_enabled() and (
        data.requires_grad or s.requires_grad or (o is not None and o.requires_grad)
    ):
        raw = K.StaticQuantize.apply(data, s, o, tile, bits)
    else:
        with torch.no_grad():
            raw = K.quantize_raw(data.detach(), s.detach(), None if o is None else o.detach(), tile, bits)
    if raw.dtype != storage:
        raw = raw.to(storage)
    return raw, s, o


# Functions (data, params) -> QuantizedTensor or None, tried first when a QuantizedTensor
# is quantized again (fastforward._integer adds its table lookup; None: dequantize, quantize).
_REQUANTIZE: list = []


class AffineQuantizationFunction(QuantizationFunction):
    """Affine quantization by tile; static or dynamic parameters."""

    @classmethod
    def quantize(cls, data: torch.Tensor, params: Any) -> torch.Tensor:  # type: ignore[override]
        from fastforward.quantized_tensor import QuantizedTensor

        if isinstance(data, QuantizedTensor):  # requantization: quantize the real values
            for hook in _REQUANTIZE:  # the integer path's table lookup
                out = hook(data, params)
                if out is not None:
                    return out
            data = data.dequantize()
        if isinstance(params, DynamicAffineQuantParams):
            if get_export_mode():
                raise ExportError("dynamic affine quantization cannot be exported")
            return _quantize_dynamic(data, params)
        if not isinstance(params, StaticAffineQuantParams):
            raise TypeError(
                "AffineQuantizationFunction: unsupported parameters %s" % type(params).__name__
            )
        if get_export_mode():  # x' directly, recorded as ONNX QDQ nodes when traced
            from fastforward.export._qdq import quantize_dequantize

            return quantize_dequantize(data, params)
        # Number parameters become tensors of the input's dtype (and are recorded as such in
        # the result's context); tensor parameters are used as given.
        # (integer input: tensors of the default dtype; its values dequantize to its dtype)
        changes: dict = {"dequantize_dtype": params.dequantize_dtype or data.dtype}
        if isinstance(data, torch.Tensor):
            number_dtype = data.dtype if data.is_floating_point() else torch.get_default_dtype()
            for name in ("scale", "offset"):
                value = getattr(params, name)
                if value is not None and not isinstance(value, torch.Tensor):
                    changes[name] = torch.tensor(float(value), dtype=number_dtype, device=data.device)
        params = dataclasses.replace(params, **changes)
        raw, _, _ = quantize_static(
            data, params.scale, params.offset, params.granularity, params.num_bits, params.quantized_dtype
        )
        return QuantizationContext(cls, params).attach(raw)

    @classmethod
    def dequantize(cls, data: torch.Tensor, params: Any) -> torch.Tensor:  # type: ignore[override]
        if isinstance(params, DynamicAffineQuantParams):
            raise TypeError("dynamic affine parameters cannot dequantize; the tensor carries static ones")
        if not isinstance(params, StaticAffineQuantParams):
            raise TypeError("AffineQuantizationFunction: unsupported parameters %s" % type(params).__name__)
        if get_export_mode() and torch._C._get_tracing_state() is not None:
            # While export traces the model, quantizers return x' and make no QuantizedTensor,
            # so integers dequantized here are held by the model (a weight quantized ahead of
            # time): stored integers feeding an ONNX DequantizeLinear.
            from fastforward.export._qdq import dequantize_stored

            return dequantize_stored(data, data, params)
        return dequantize_static(data, params)


def dequantize_static(raw: torch.Tensor, params: StaticAffineQuantParams) -> torch.Tensor:
    """Real values of ``raw`` (identity gradient w.r.t. ``raw``)."""
    tile = _tile(raw, params.granularity)
    scale = ensure_tensor(params.scale, device=raw.device)
    if raw.numel() == 0:
        dtype = params.dequantize_dtype or (scale.dtype if scale.is_floating_point() else torch.get_default_dtype())
        empty = torch.empty(raw.shape, dtype=dtype, device=raw.device)
        if torch.is_grad_enabled() and raw.requires_grad:
            return _IdentityGrad.apply(raw, [empty])
        return empty
    s = K.per_tile(scale, raw.shape, tile, "scale")
    o = None
    if params.offset is not None:
        o = K.per_tile(ensure_tensor(params.offset, device=raw.device), raw.shape, tile, "offset")
    with torch.no_grad():
        value = K.dequantize_raw(raw.detach(), s.detach(), None if o is None else o.detach(), tile, int(params.num_bits))
    if params.dequantize_dtype is not None and value.dtype != params.dequantize_dtype:
        value = value.to(params.dequantize_dtype)
    if torch.is_grad_enabled() and raw.requires_grad:
        return _IdentityGrad.apply(raw, [value])
    return value


def _quantize_dynamic(data: torch.Tensor, params: DynamicAffineQuantParams) -> torch.Tensor:
    K.check_float_data(data)
    if data.numel() == 0:
        raise QuantizationError("dynamic quantization of an empty tensor")
    if params.parameter_inference_fn is not None:
        # the function's (scale, offset), then static quantization with them: its values and
        # its gradients (clipped straight-through data, scale and offset as computed)
        scale, offset = params.parameter_inference_fn(params, data)
        static = StaticAffineQuantParams(
            scale=scale, offset=offset, num_bits=params.num_bits, granularity=params.granularity,
            quantized_dtype=params.quantized_dtype, dequantize_dtype=params.dequantize_dtype,
        )
        return AffineQuantizationFunction.quantize(data, static)
    else:
        with torch.no_grad():
            tile = _tile(data, params.granularity)
            rows = data.detach().reshape(K._split(data.shape, tile)[0]) if data.dim() else data.detach().reshape(1)
            dims = tuple(range(1, 2 * data.dim(), 2))
            lo = rows.amin(dims).reshape(-1) if dims else rows.reshape(-1)
            hi = rows.amax(dims).reshape(-1) if dims else rows.reshape(-1)
            scale, offset = parameters_for_range(lo, hi, params.num_bits, params.symmetric, params.allow_one_sided)
            scale = scale.to(data.dtype) if data.dtype.is_floating_point else scale
            offset = torch.zeros_like(scale) if offset is None else torch.round(offset).to(scale.dtype)
    static = StaticAffineQuantParams(
        scale=scale, offset=offset, num_bits=params.num_bits, granularity=params.granularity,
        quantized_dtype=params.quantized_dtype, dequantize_dtype=params.dequantize_dtype or data.dtype,
    )
    with torch.no_grad():
        raw, _, _ = quantize_static(data.detach(), scale, offset, params.granularity, params.num_bits, params.quantized_dtype)
    if torch.is_grad_enabled() and data.requires_grad and raw.is_floating_point():
        raw = _PassThrough.apply(data, raw)
    return QuantizationContext(AffineQuantizationFunction, static).attach(raw)


class _PassThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, data: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return raw

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        return grad, None


def fake_quantize(
    data: torch.Tensor,
    scale: TensorLike,
    offset: Optional[TensorLike] = None,
    granularity: Optional[Granularity] = None,
    num_bits: float = 8,
) -> torch.Tensor:
    """``dequantize(quantize(data))`` as a plain tensor in one pass (no gradient)."""
    from fastforward.quantized_tensor import QuantizedTensor

    if isinstance(data, QuantizedTensor):
        data = data.dequantize()
    granularity = granularity or PerTensor()
    bits = K.check_num_bits(num_bits)
    K.check_float_data(data)
    scale_t = ensure_tensor(scale, device=data.device).to(data.dtype) if not isinstance(scale, torch.Tensor) else scale
    K.check_scale(scale_t)
    tile = _tile(data, granularity)
    if data.numel() == 0:
        return torch.empty(data.shape, dtype=data.dtype, device=data.device)
    s = K.per_tile(scale_t, data.shape, tile, "scale").detach()
    o = None
    if offset is not None:
        offset_t = offset if isinstance(offset, torch.Tensor) else torch.tensor(float(offset), dtype=data.dtype, device=data.device)
        o = K.per_tile(offset_t, data.shape, tile, "offset").detach()
    with torch.no_grad():
        return K.fake_quantize_raw(data.detach(), s, o, tile, bits)


__all__ += ["dequantize_static", "fake_quantize", "quantize_static"]


safe_for_torch_load(AffineQuantizationFunction, StaticAffineQuantParams)

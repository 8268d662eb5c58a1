"""Affine (uniform, integer-grid) quantization: ``x' = (clamp(round(x / s) - round(o),
qmin, qmax) + round(o)) * s`` per tile of a granularity. Static helpers take scale and
offset; ``affine.dynamic`` derives them from each input."""

from fastforward.quantization.affine import _ops, _views, dynamic, static  # noqa: F401 (_views registers kernels, _ops torch ops)
from fastforward.quantization.affine._affine import (
    AffineQuantizationFunction,
    DynamicAffineQuantParams,
    DynamicParamInferenceFn,
    StaticAffineQuantParams,
    dequantize_static,
    fake_quantize,
    integer_maximum,
    integer_minimum,
    parameters_for_range,
    quantization_range,
    quantize_static,
)
from fastforward.quantization.affine.static import (
    quantization_context,
    quantize_by_tile,
    quantize_per_block,
    quantize_per_channel,
    quantize_per_granularity,
    quantize_per_tensor,
)

__all__ = [
    "AffineQuantizationFunction",
    "DynamicAffineQuantParams",
    "DynamicParamInferenceFn",
    "StaticAffineQuantParams",
    "dequantize_static",
    "dynamic",
    "fake_quantize",
    "integer_maximum",
    "integer_minimum",
    "parameters_for_range",
    "quantization_context",
    "quantization_range",
    "quantize_by_tile",
    "quantize_per_block",
    "quantize_per_channel",
    "quantize_per_granularity",
    "quantize_per_tensor",
    "quantize_static",
    "static",
]

"""Quantization functions, affine quantization, granularities and straight-through
estimators."""

from fastforward.quantization import affine, function, granularity, ste, tiled_tensor
from fastforward.quantization.affine import dynamic, static
from fastforward.quantization.function import create_quantization_function

__all__ = [
    "affine",
    "create_quantization_function",
    "dynamic",
    "function",
    "granularity",
    "static",
    "ste",
    "tiled_tensor",
]

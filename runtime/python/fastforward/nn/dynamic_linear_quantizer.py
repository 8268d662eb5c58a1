"""Dynamic affine quantizer: scale and offset derived from each input."""

from __future__ import annotations

from typing import Optional

import torch

from fastforward.nn.linear_quantizer import AbstractAffineQuantizer
from fastforward.quantization.affine import AffineQuantizationFunction, DynamicAffineQuantParams
from fastforward.quantization.affine._affine import DynamicParamInferenceFn
from fastforward.quantization.granularity import Granularity

__all__ = ["DynamicLinearQuantizer"]


class DynamicLinearQuantizer(AbstractAffineQuantizer):
    """Quantizes each input with parameters from its own per-tile min and max (asymmetric
    by default). Has no parameters and is not range-settable."""

    def __init__(self, num_bits: int, *, granularity: Optional[Granularity] = None,
                 quantized_dtype: Optional[torch.dtype] = None,
                 parameter_inference_fn: Optional[DynamicParamInferenceFn] = None,
                 allow_one_sided: bool = True, symmetric: bool = False) -> None:
        super().__init__(num_bits, granularity=granularity, quantized_dtype=quantized_dtype)
        self.parameter_inference_fn = parameter_inference_fn
        self.allow_one_sided = bool(allow_one_sided)
        self.symmetric = bool(symmetric)

    @property
    def quantization_function(self) -> type:
        return AffineQuantizationFunction

    def quantization_parameters(self) -> DynamicAffineQuantParams:
        return DynamicAffineQuantParams(
            num_bits=self.num_bits, granularity=self.granularity, symmetric=self.symmetric,
            allow_one_sided=self.allow_one_sided, quantized_dtype=self.quantized_dtype,
            parameter_inference_fn=self.parameter_inference_fn,
        )

    def reset_parameters(self) -> None:
        pass

    def extra_repr(self) -> str:
        return super().extra_repr() + ", symmetric=%s" % self.symmetric

"""Q-format (fixed-point) quantizer, as TorchQuant offers it.

A ``b``-bit Q-format number with ``f`` fractional bits is an integer ``q`` in
``[-2^(b-1), 2^(b-1) - 1]`` standing for ``q * 2^-f``: affine quantization with the scale a
power of two and no offset. With ``frac_bits=None`` the fractional bits are chosen from the
range (the most that still represent the range's largest magnitude), so the quantizer is
range-settable and works with every range estimator; with a fixed ``frac_bits`` setting a
range changes nothing. Gradients are straight-through (clipped outside the grid).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple, Union

import torch

from fastforward.common import ensure_tensor
from fastforward.nn.linear_quantizer import AbstractAffineQuantizer
from fastforward.nn.quantizer import describe
from fastforward.quantization.affine import AffineQuantizationFunction, StaticAffineQuantParams
from fastforward.quantization.granularity import Granularity

__all__ = ["QFormatQuantizer", "frac_bits_for_range"]


def frac_bits_for_range(min_range: torch.Tensor, max_range: torch.Tensor, num_bits: int) -> torch.Tensor:
    """Per tile, the largest number of fractional bits whose grid still covers the range."""
    qmax = 2.0 ** (num_bits - 1) - 1
    qmin = 2.0 ** (num_bits - 1)
    lo = torch.as_tensor(min_range, dtype=torch.float32).reshape(-1).abs()
    hi = torch.as_tensor(max_range, dtype=torch.float32).reshape(-1).abs()
    # need qmax * 2^-f >= hi and qmin * 2^-f >= lo  ->  f <= log2(qmax / hi), log2(qmin / lo)
    tiny = torch.finfo(torch.float32).tiny
    f_hi = torch.floor(torch.log2(qmax / hi.clamp_min(tiny)))
    f_lo = torch.floor(torch.log2(qmin / lo.clamp_min(tiny)))
    return torch.minimum(f_hi, f_lo).clamp(-126.0, 126.0)


class QFormatQuantizer(AbstractAffineQuantizer):
    """Fixed-point quantizer: scale ``2^-frac_bits``, zero offset, STE gradients."""

    def __init__(self, num_bits: int, frac_bits: Optional[int] = None, *,
                 granularity: Optional[Granularity] = None) -> None:
        super().__init__(num_bits, granularity=granularity)
        self.fixed_frac_bits = frac_bits is not None
        if frac_bits is not None:
            if int(frac_bits) != frac_bits:
                raise ValueError("QFormatQuantizer: frac_bits must be an integer, got %r" % (frac_bits,))
            self.register_buffer("frac_bits", torch.tensor([float(frac_bits)]))
        else:
            self.register_buffer("frac_bits", torch.nn.parameter.UninitializedBuffer())

    symmetric = True

    def reset_parameters(self) -> None:
        if not self.fixed_frac_bits:
            self.frac_bits = torch.nn.parameter.UninitializedBuffer()

    @property
    def quantization_function(self) -> type:
        return AffineQuantizationFunction

    def _params(self, frac_bits: torch.Tensor) -> StaticAffineQuantParams:
        return StaticAffineQuantParams(scale=torch.pow(2.0, -frac_bits), offset=None, num_bits=self.num_bits,
                                       granularity=self.granularity)

    def quantization_parameters(self) -> StaticAffineQuantParams:
        if self.has_uninitialized_params:
            raise ValueError(
                "%s is uninitialized: give frac_bits, set quantization_range or use range setting"
                % describe(self)
            )
        return self._params(self.frac_bits)

    @property
    def quantization_range(self) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        if self.has_uninitialized_params:
            return None, None
        scale = torch.pow(2.0, -self.frac_bits)
        return self.integer_minimum * scale, self.integer_maximum * scale

    @quantization_range.setter
    def quantization_range(self, quant_range: Sequence[Union[torch.Tensor, float]]) -> None:
        if not isinstance(quant_range, (tuple, list)) or len(quant_range) != 2:
            raise ValueError("%s: a quantization range is a 2-tuple (min, max), got %r" % (describe(self), quant_range))
        if self.fixed_frac_bits:
            return
        lo, hi = (ensure_tensor(v).detach().reshape(-1).float() for v in quant_range)
        f = frac_bits_for_range(lo, hi, self.num_bits)
        with torch.no_grad():
            if isinstance(self.frac_bits, torch.nn.parameter.UninitializedBuffer):
                self.frac_bits.materialize((f.numel(),))
            self.frac_bits.copy_(f.reshape(self.frac_bits.shape))

    def operator_for_range(self, min_range: torch.Tensor, max_range: torch.Tensor,
                           data_shape: torch.Size) -> Callable[[torch.Tensor], torch.Tensor]:
        params = self._params(frac_bits_for_range(min_range, max_range, self.num_bits))
        return lambda data: AffineQuantizationFunction.quantize(data, params)

    def extra_repr(self) -> str:
        f = "lazy" if self.has_uninitialized_params else self.frac_bits.tolist()
        return super().extra_repr() + ", frac_bits=%s" % (f,)


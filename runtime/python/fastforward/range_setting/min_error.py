"""Minimum-error grid search: per tile, the candidate range whose quantization error
(MSE by default) accumulated over the batches is lowest."""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Iterator, Optional, Tuple

import torch

from fastforward.nn.quantizer import Quantizer, describe
from fastforward.quantization.tiled_tensor import tiles_to_rows
from fastforward.range_setting.common import (
    RangeEstimator,
    SimpleEstimatorStep,
    SupportsRangeBasedOperator,
    quantizers_of,
    real_values,
    tile_minmax,
)

__all__ = [
    "MinErrorGridRangeEstimator",
    "mse_error",
    "mse_grid",
    "min_error_grid",
    "uniform_search_grid",
]


def mse_error(quantized: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per tile of two (tiles, elements) matrices."""
    diff = quantized - original
    return (diff * diff).mean(1)


class _UniformSearchGrid:
    """The generator ``uniform_search_grid`` returns: a plain object holding the margins (a
    model being calibrated with it pickles, a closure would not)."""

    def __init__(self, absolute_margin: float, relative_margin: float) -> None:
        self.absolute_margin = absolute_margin
        self.relative_margin = relative_margin

    def __call__(self, lo: torch.Tensor, hi: torch.Tensor, num: int, symmetric: bool) -> Tuple[torch.Tensor, torch.Tensor]:
        relative_margin, absolute_margin = self.relative_margin, self.absolute_margin
        hi2 = relative_margin * hi + absolute_margin
        lo2 = relative_margin * lo - absolute_margin
        k = torch.arange(1, num + 1, dtype=torch.float32).reshape(-1, 1) / num
        if bool((lo >= 0).all()):
            return torch.zeros(num, lo.numel()), k * hi2.reshape(1, -1)
        if symmetric:
            m = torch.maximum(lo2.abs(), hi2.abs()).reshape(1, -1)
            return -k * m, k * m
        k1 = int(math.floor(math.sqrt(num)))
        k2 = num // max(k1, 1)
        mins = torch.linspace(1, 0.6, k1).reshape(-1, 1, 1) * lo2.reshape(1, 1, -1)
        maxs = torch.linspace(0.6, 1, k2).reshape(1, -1, 1) * hi2.reshape(1, 1, -1)
        mins, maxs = torch.broadcast_tensors(mins, maxs)
        return mins.reshape(k1 * k2, -1), maxs.reshape(k1 * k2, -1)

    def __repr__(self) -> str:
        return "uniform_search_grid(absolute_margin=%r, relative_margin=%r)" % (
            self.absolute_margin, self.relative_margin)


def uniform_search_grid(absolute_margin: float = 0.5, relative_margin: float = 1.0
                        ) -> Callable[[torch.Tensor, torch.Tensor, int, bool], Tuple[torch.Tensor, torch.Tensor]]:
    """Candidate generator: ``num`` evenly spaced ranges up to the (widened) batch range."""
    return _UniformSearchGrid(absolute_margin, relative_margin)


class _GridStep(SimpleEstimatorStep):
    def __init__(self, estimator: "MinErrorGridRangeEstimator") -> None:
        super().__init__(disable_quantization=False)
        self.estimator = estimator
        self.steps = 0
        self.candidates: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        self.errors: Optional[torch.Tensor] = None

    def setup_estimator(self, data: torch.Tensor) -> None:
        quantizer = self.quantizer
        lo, hi = tile_minmax(data, quantizer.granularity, describe(quantizer))
        lo = torch.where(torch.isfinite(lo), lo, torch.zeros_like(lo))
        hi = torch.where(torch.isfinite(hi), hi, torch.zeros_like(hi))
        self.candidates = self.estimator.search_grid_generator(lo, hi, self.estimator.num_candidates, quantizer.symmetric)
        self.errors = torch.zeros(self.candidates[0].shape)

    def estimate_step(self, quantizer: Any, data: torch.Tensor) -> None:
        mins, maxs = self.candidates  # type: ignore[misc]
        tile = quantizer.granularity.tile_size(data.shape)
        x = real_values(data.detach())
        x_rows = tiles_to_rows(x, tile)
        with torch.no_grad():
            for k in range(mins.shape[0]):
                op = quantizer.operator_for_range(mins[k], maxs[k], data.shape)
                rows = tiles_to_rows(op(x).dequantize(), tile)
                self.errors[k] += self.estimator.error_fn(rows, x_rows).float()  # type: ignore[index]
        self.steps += 1
        policy = self.estimator.update_range_policy
        if policy is None or policy(self.estimator, self.steps):
            best = self.errors.argmin(0)  # type: ignore[union-attr]
            cols = torch.arange(mins.shape[1])
            quantizer.quantization_range = (mins[best, cols], maxs[best, cols])


class MinErrorGridRangeEstimator(RangeEstimator):
    """Grid search over candidate ranges minimising ``error_fn`` per tile."""

    def __init__(self, error_fn: Callable[..., torch.Tensor] = mse_error, num_candidates: int = 100,
                 search_grid_generator: Optional[Callable[..., Tuple[torch.Tensor, torch.Tensor]]] = None,
                 update_range_policy: Optional[Callable[[Any, int], bool]] = None,
                 skip_unsupported_quantizers: bool = False) -> None:
        self.error_fn = error_fn
        self.num_candidates = int(num_candidates)
        self.search_grid_generator = search_grid_generator or uniform_search_grid()
        self.update_range_policy = update_range_policy
        self.skip_unsupported_quantizers = skip_unsupported_quantizers

    def split_module(self, module: torch.nn.Module) -> Iterator[torch.nn.Module]:
        for _, quantizer in quantizers_of(module):
            yield quantizer

    def prepare(self, module: torch.nn.Module) -> Any:
        if not isinstance(module, SupportsRangeBasedOperator) or not isinstance(module, Quantizer):
            message = "%s does not support SupportsRangeBasedOperator" % describe(module)
            if self.skip_unsupported_quantizers:
                warnings.warn(message + "; skipped", UserWarning, stacklevel=4)
                return None
            raise TypeError(message)
        return module.register_override(_GridStep(self))

    def cleanup(self, module: torch.nn.Module, metadata: Any) -> None:
        if metadata is not None:
            metadata.remove()


min_error_grid = MinErrorGridRangeEstimator
mse_grid = MinErrorGridRangeEstimator

"""Min-max range estimators: running (all batches), smoothed (EMA), and TorchQuant-style
``BatchMinMax`` (last batch) and ``ExpAvgMinMax(momentum)``."""

from __future__ import annotations

import warnings
from typing import Any, Iterator, Optional

import torch

from fastforward.nn.quantizer import Quantizer, describe
from fastforward.range_setting.common import (
    RangeEstimator,
    RangeSettable,
    SimpleEstimatorStep,
    current_range,
    quantizers_of,
    tile_minmax,
)

__all__ = [
    "BatchMinMax",
    "ExpAvgMinMax",
    "MinMaxRangeEstimator",
    "RunningMinMaxEstimator",
    "RunningMinMaxRangeEstimator",
    "SmoothedMinMaxEstimator",
    "SmoothedMinMaxRangeEstimator",
    "running_minmax",
    "smoothed_minmax",
]


class _MinMaxStep(SimpleEstimatorStep, torch.nn.Module):
    """Holds per-tile ``min`` / ``max`` statistics of one quantizer."""

    start_from_current = True

    def __init__(self, *, disable_quantization: bool = False) -> None:
        torch.nn.Module.__init__(self)
        SimpleEstimatorStep.__init__(self, disable_quantization=disable_quantization)
        self.register_buffer("min", None)
        self.register_buffer("max", None)

    __call__ = SimpleEstimatorStep.__call__  # an override, not a module forward

    def setup_estimator(self, data: torch.Tensor) -> None:
        quantizer = self.quantizer
        n = quantizer.granularity.parameter_dimensionality(data.shape)
        start = current_range(quantizer, n) if self.start_from_current else None
        if start is None:
            start = (torch.full((n,), float("inf")), torch.full((n,), float("-inf")))
        self.min, self.max = start

    def combine(self, old: torch.Tensor, new: torch.Tensor, is_min: bool) -> torch.Tensor:
        raise NotImplementedError

    # A batch holding +-Inf: a NotImplementedError (the running estimator, as FastForward's),
    # or ignored with a warning, as NaN always is.
    reject_infinite = False

    def estimate_step(self, quantizer: Any, data: torch.Tensor) -> None:
        lo, hi = tile_minmax(data, quantizer.granularity, describe(quantizer), self.reject_infinite)
        lo, hi = lo.to(self.min.device), hi.to(self.max.device)
        if lo.shape != self.min.shape:
            raise ValueError(
                "%s: data of shape %s has %d tiles, the statistics have %d"
                % (describe(quantizer), tuple(data.shape), lo.numel(), self.min.numel())
            )
        # Tiles without finite data in this batch keep their statistics.
        seen = torch.isfinite(lo) & torch.isfinite(hi)
        self.min = torch.where(seen, self.combine(self.min, lo, True), self.min)
        self.max = torch.where(seen, self.combine(self.max, hi, False), self.max)
        if bool(torch.isfinite(self.min).all()) and bool(torch.isfinite(self.max).all()):
            quantizer.quantization_range = (self.min.clone(), self.max.clone())


class RunningMinMaxEstimator(_MinMaxStep):
    """min = minimum over batches, max = maximum over batches (starting from the
    quantizer's current range when it has one). A batch whose minimum or maximum is
    infinite raises NotImplementedError."""

    reject_infinite = True

    def combine(self, old: torch.Tensor, new: torch.Tensor, is_min: bool) -> torch.Tensor:
        return torch.minimum(old, new) if is_min else torch.maximum(old, new)


class SmoothedMinMaxEstimator(_MinMaxStep):
    """stat = gamma * batch + (1 - gamma) * stat (the first finite batch initialises)."""

    start_from_current = False

    def __init__(self, gamma: float = 1.0, *, disable_quantization: bool = False) -> None:
        super().__init__(disable_quantization=disable_quantization)
        self.gamma = float(gamma)

    def combine(self, old: torch.Tensor, new: torch.Tensor, is_min: bool) -> torch.Tensor:
        if not bool(torch.isfinite(old).all()):
            return torch.where(torch.isfinite(old), self.gamma * new + (1 - self.gamma) * old, new)
        return self.gamma * new + (1 - self.gamma) * old


class MinMaxRangeEstimator(RangeEstimator):
    """Base of the min-max estimators: one step override per non-stub quantizer."""

    step_type: type = RunningMinMaxEstimator

    def __init__(self, disable_quantization: bool = False, skip_unsupported_quantizers: bool = False) -> None:
        self.disable_quantization = disable_quantization
        self.skip_unsupported_quantizers = skip_unsupported_quantizers

    def make_step(self) -> _MinMaxStep:
        return self.step_type(disable_quantization=self.disable_quantization)

    def split_module(self, module: torch.nn.Module) -> Iterator[torch.nn.Module]:
        for _, quantizer in quantizers_of(module):
            yield quantizer

    def prepare(self, module: torch.nn.Module) -> Optional[Any]:
        if not isinstance(module, RangeSettable):
            message = "%s is not RangeSettable (needs granularity and quantization_range)" % describe(module)
            if self.skip_unsupported_quantizers:
                warnings.warn(message + "; skipped", UserWarning, stacklevel=4)
                return None
            raise TypeError(message)
        if not isinstance(module, Quantizer):
            raise TypeError("%s is not a Quantizer" % describe(module))
        return module.register_override(self.make_step())

    def cleanup(self, module: torch.nn.Module, metadata: Optional[Any]) -> None:
        if metadata is not None:
            metadata.remove()


class RunningMinMaxRangeEstimator(MinMaxRangeEstimator):
    """Range = running min and max of everything seen."""

    step_type = RunningMinMaxEstimator


class SmoothedMinMaxRangeEstimator(MinMaxRangeEstimator):
    """Range = exponential moving average of batch min and max (gamma=1: last batch)."""

    def __init__(self, gamma: float = 1.0, disable_quantization: bool = False,
                 skip_unsupported_quantizers: bool = False) -> None:
        super().__init__(disable_quantization, skip_unsupported_quantizers)
        self.gamma = gamma

    def make_step(self) -> _MinMaxStep:
        return SmoothedMinMaxEstimator(self.gamma, disable_quantization=self.disable_quantization)


class BatchMinMax(SmoothedMinMaxRangeEstimator):
    """TorchQuant's observer: the range of the current batch only."""

    def __init__(self, disable_quantization: bool = False, skip_unsupported_quantizers: bool = False) -> None:
        super().__init__(1.0, disable_quantization, skip_unsupported_quantizers)


class ExpAvgMinMax(SmoothedMinMaxRangeEstimator):
    """TorchQuant's observer: stat = momentum * stat + (1 - momentum) * batch."""

    def __init__(self, momentum: float = 0.9, disable_quantization: bool = False,
                 skip_unsupported_quantizers: bool = False) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError("ExpAvgMinMax: momentum must be in [0, 1), got %r" % (momentum,))
        super().__init__(1.0 - momentum, disable_quantization, skip_unsupported_quantizers)
        self.momentum = momentum


running_minmax = RunningMinMaxRangeEstimator
smoothed_minmax = SmoothedMinMaxRangeEstimator

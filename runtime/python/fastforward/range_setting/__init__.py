"""Range setting: estimate quantization ranges from data (``estimate_ranges``)."""

from fastforward.range_setting import common, min_error, minmax
from fastforward.range_setting.common import (
    RangeEstimator,
    RangeSettable,
    SimpleEstimatorStep,
    SupportsRangeBasedOperator,
    estimate_ranges,
)
from fastforward.range_setting.min_error import MinErrorGridRangeEstimator, mse_error
from fastforward.range_setting.minmax import (
    BatchMinMax,
    ExpAvgMinMax,
    RunningMinMaxRangeEstimator,
    SmoothedMinMaxRangeEstimator,
    running_minmax,
    smoothed_minmax,
)

mse_grid = MinErrorGridRangeEstimator

__all__ = [
    "BatchMinMax",
    "ExpAvgMinMax",
    "MinErrorGridRangeEstimator",
    "RangeEstimator",
    "RangeSettable",
    "RunningMinMaxRangeEstimator",
    "SimpleEstimatorStep",
    "SmoothedMinMaxRangeEstimator",
    "SupportsRangeBasedOperator",
    "common",
    "estimate_ranges",
    "min_error",
    "minmax",
    "mse_error",
    "mse_grid",
    "running_minmax",
    "smoothed_minmax",
]

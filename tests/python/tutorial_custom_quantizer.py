"""The custom-quantizer tutorial's code cells, in order and unmodified, as a test.

The cells below are the code our users run (the API they are written against): a custom
QuantizationFunction with apply/bind, a Quantizer implementing RangeSettable, manual
range setting and estimate_ranges with RunningMinMaxRangeEstimator. The test captures
the four printed maximum errors and checks their magnitude (the data are random):

1. rand data in [0, 1) on a 2^-8 grid with offset 128: the clipped top bin, < 1/256 + eps;
2. randn data with a min-max range: at most one scale step (range / 255);
3. calibration data: at most one scale step of the calibrated range;
4. new data: includes clipping outside the calibrated range, so larger than (3).

Run: python3 tests/python/tutorial_custom_quantizer.py (exit 0 = pass).
"""

import contextlib
import io
import os
import re
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "runtime", "python"))

_out = io.StringIO()
warnings.simplefilter("ignore", UserWarning)  # the tutorial's own torch.tensor(tensor) warning

with contextlib.redirect_stdout(_out):
    # ---- cell 1 --------------------------------------------------------------------------
    from typing import Callable

    import torch
    from torch import Tensor

    from fastforward import QuantizedTensor, estimate_ranges
    from fastforward.common import ensure_tensor
    from fastforward.nn.quantizer import Quantizer
    from fastforward.quantization import granularity
    from fastforward.quantization.affine import parameters_for_range
    from fastforward.quantization.function import QuantizationFunction
    from fastforward.quantization.ste import round_ste
    from fastforward.range_setting.minmax import RunningMinMaxRangeEstimator

    class MyQuantizationFunction(QuantizationFunction):
        """My custom quantization function class"""

        @staticmethod
        def quantize(  # type: ignore[override]
            data: Tensor, num_bits: int, scale: float, offset: float | None = None
        ) -> Tensor:
            if offset is None:
                offset = 0.0
            min_int = -(2 ** (num_bits - 1))
            max_int = -min_int - 1
            return torch.clamp(round_ste(data / scale - offset), min_int, max_int)

        @staticmethod
        def dequantize(  # type: ignore[override]
            quant_data: Tensor, num_bits, scale: float, offset: float | None = None
        ) -> Tensor:
            if offset is not None:
                _offset = torch.round(torch.tensor(offset, device=quant_data.device))
                return (quant_data + _offset) * scale
            else:
                return quant_data * scale

    # ---- cell 2 --------------------------------------------------------------------------
    # Create new random data tensor
    data = torch.rand(1024, 1024, requires_grad=True)

    # Quantize and dequantize data
    bits = 8
    qf_data = MyQuantizationFunction.apply(data, num_bits=bits, scale=2 ** (-bits), offset=128)
    dqf_data = qf_data.dequantize()

    # Compute quantization error
    qf_error = torch.abs(data - dqf_data)
    print(f"The maximum quantization error found on input data is: {qf_error.max()} ")

    # ---- cell 3 --------------------------------------------------------------------------
    class MyQuantizer(Quantizer):
        """My custom quantizer class"""

        def __init__(self, num_bits: int, symmetric: bool = False, device: torch.device | str = "cpu"):
            super().__init__()
            self.num_bits = num_bits
            self.scale = torch.nn.Parameter(torch.tensor([0.0], device=device))
            self.offset = None if symmetric else torch.nn.Parameter(torch.tensor([0.0], device=device))

        def extra_repr(self) -> str:
            extra = f"num_bits={self.num_bits}, symmetric={self.symmetric}, scale={self.scale}, offset={self.offset}"
            return super().extra_repr() + extra

        def quantize(self, data: Tensor) -> Tensor:
            return MyQuantizationFunction.apply(
                data, num_bits=self.num_bits, scale=self.scale, offset=self.offset
            )

        @property
        def granularity(self) -> granularity.Granularity:
            return granularity.PerTensor()

        @property
        def symmetric(self) -> bool:
            return "offset" in self._buffers or self.offset is None

        @property
        def quantization_range(self) -> tuple[Tensor | float | None, Tensor | float | None]:
            offset = self.offset or 0.0
            range_min = (integer_minimum(self.num_bits) + offset) * self.scale
            range_max = (integer_maximum(self.num_bits) + offset) * self.scale
            return range_min, range_max

        @quantization_range.setter
        def quantization_range(self, quant_range: tuple[Tensor | float, Tensor | float]) -> None:
            if not isinstance(quant_range, (tuple, list)):
                raise ValueError(
                    "Tried to set quantization range with a single value. A 2-tuple is expected"
                )
            if not len(quant_range) == 2:
                raise ValueError(
                    f"Tried to set quantization range with {len(quant_range)}-tuple. A 2-tuple is expected"
                )

            min, max = (ensure_tensor(t, device=self.scale.device) for t in quant_range)
            with torch.no_grad():
                scale, offset = parameters_for_range(
                    min, max, self.num_bits, self.symmetric, allow_one_sided=False
                )
                self.scale.copy_(scale)
                if self.offset is not None and offset is not None:
                    self.offset.copy_(offset)

    def integer_minimum(num_bits: float) -> float:
        return -(2 ** (num_bits - 1))

    def integer_maximum(num_bits: float) -> float:
        return -integer_minimum(num_bits) - 1

    # ---- cell 4 --------------------------------------------------------------------------
    # Create new random data tensor
    data = torch.randn(128, 64, 4, requires_grad=True)

    # Instantiate quantizer:
    quantizer = MyQuantizer(num_bits=8, symmetric=False)

    # Set quantization range manually:
    quantizer.quantization_range = data.min(), data.max()

    # Quantize and dequantize data
    q_data = quantizer(data)
    dq_data = q_data.dequantize()

    # Compute quantization error
    q_error = torch.abs(data - dq_data)
    print(f"The maximum quantization error found on input tensor is: {q_error.max()} ")

    # ---- cell 5 --------------------------------------------------------------------------
    # Create new random data tensor
    data = torch.randn(10, 10, requires_grad=True)

    # Instantiate quantizer:
    quantizer = MyQuantizer(num_bits=8, symmetric=False)

    # Estimate range
    with estimate_ranges(quantizer, RunningMinMaxRangeEstimator):
        q_data = quantizer(data)

    # Compute quantization error over the calibration data
    dq_data = q_data.dequantize()
    q_error = torch.abs(data - dq_data)
    print(f"The maximum quantization error found on calibraiton data is: {q_error.max()} ")

    # Create new random data tensor and quantize with range fixed previously
    data = torch.randn(10, 10, requires_grad=True)
    q_data = quantizer(data)
    dq_data = q_data.dequantize()
    q_error = torch.abs(data - dq_data)
    print(f"The maximum quantization error found on new data is: {q_error.max()} ")

    # ---- cell 6 --------------------------------------------------------------------------
    # class MyQuantizer:
    # ...
    def operator_for_range(
        self, min_range: Tensor, max_range: Tensor, data_shape: torch.Size
    ) -> Callable[[torch.Tensor], QuantizedTensor]:
        scale, offset = parameters_for_range(
            min_range, max_range, self.num_bits, self.symmetric, allow_one_sided=False
        )
        return MyQuantizationFunction.bind(num_bits=self.num_bits, scale=scale, offset=offset)


# ---- checks (not part of the tutorial) ------------------------------------------------------

printed = _out.getvalue()
sys.stdout.write(printed)
errors = [float(v) for v in re.findall(r"is: ([0-9.eE+-]+) ", printed)]
assert len(errors) == 4, "expected four printed errors, got %r" % printed
e_rand, e_manual, e_calib, e_new = errors
failures = []
# 1: values in [0, 1) on a grid of 2^-8 with 256 levels: the top bin [255.5, 256)/256 clips.
if not (1 / 512 < e_rand <= 1 / 256 + 1e-6):
    failures.append("cell 2: %r is not about 1/256" % e_rand)
# 2: one scale step of randn(128, 64, 4)'s range (quantize uses the unrounded offset,
# dequantize the rounded one, so up to a full step).
if not (1e-3 < e_manual < 0.06):
    failures.append("cell 4: %r is not within one scale step (~0.03)" % e_manual)
# 3: one step of the calibrated range of randn(10, 10) (range ~5, step ~0.02).
calibrated_step = float(quantizer.scale.detach())
if not (0 < e_calib <= calibrated_step * 1.0001):
    failures.append("cell 5: %r exceeds one calibrated step %r" % (e_calib, calibrated_step))
# 4: fresh data are clipped at the calibrated range: the error is the part outside the
# range, give or take one step.
lo, hi = (float(v.detach()) for v in quantizer.quantization_range)
excess = max(0.0, float(data.max()) - hi, lo - float(data.min()))
if not (excess - calibrated_step <= e_new <= excess + calibrated_step * 1.0001):
    failures.append(
        "cell 5: new-data error %r does not match the clipping excess %r" % (e_new, excess)
    )
cell6 = operator_for_range(quantizer, torch.tensor(-1.0), torch.tensor(1.0), torch.Size([3]))
qt = cell6(torch.tensor([-1.0, 0.0, 1.0]))
if not isinstance(qt, QuantizedTensor) or (qt.dequantize() - torch.tensor([-1.0, 0.0, 1.0])).abs().max() > 2 / 255:
    failures.append("cell 6: operator_for_range's bound function does not quantize [-1, 1]")
print("torch %s: errors %s" % (torch.__version__, ", ".join("%.7f" % e for e in errors)))
if failures:
    print("FAIL\n" + "\n".join(failures))
    sys.exit(1)
print("PASS")

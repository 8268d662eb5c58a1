"""TorchQuant's quantization mode switch, built from quantizer overrides.

``set_qmodule_state(model, QModuleState.CALIBRATE)`` or ``with qmodule_state(model, state):``
puts every real quantizer of ``model`` in one of these modes, independently of
``model.train()`` / ``model.eval()``:

* ``FLOAT`` — quantizers pass data through (strict quantization off in the model);
* ``CALIBRATE`` — observers (range estimators, default running min-max) record ranges while
  data pass through unquantized;
* ``QUANT_AWARE_TRAIN`` — quantizers quantize (straight-through gradients); with an
  ``observer`` the ranges keep following the data, otherwise scales are learned;
* ``QUANTIZED_EVAL`` — quantizers quantize with their current ranges, nothing is updated.
"""

from __future__ import annotations

import contextlib
import enum
from typing import Any, Iterator, List, Optional

import torch

from fastforward.nn.quantizer import Quantizer
from fastforward.exceptions import QuantizationError
from fastforward.overrides import DisableQuantizationOverride
from fastforward.quantization.strict_quantization import strict_quantization_for_module
from fastforward.range_setting.common import end_estimation, start_estimation
from fastforward.range_setting.minmax import RunningMinMaxRangeEstimator

__all__ = ["QModuleState", "get_qmodule_state", "qmodule_state", "set_qmodule_state"]

_KEY = "_ff_qmodule_state"


class QModuleState(enum.Enum):
    FLOAT = "float"
    CALIBRATE = "calibrate"
    QUANT_AWARE_TRAIN = "quant_aware_train"
    QUANTIZED_EVAL = "quantized_eval"


class _Controller:
    """The mode of one model. What a mode installs (the strict-off hooks, the observers'
    overrides, other switches turned on) is kept as plain records, undone by the next
    change, so a model in any mode pickles with its controller (``torch.save(model)``)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.state: Optional[QModuleState] = None
        self.observer: Any = None
        self.switch = DisableQuantizationOverride()
        self.quantizers: List[Quantizer] = []
        self.strict_handle: Any = None  # ModuleStrictQuantHandle while the mode is not quantizing
        self.estimation: Any = None  # (estimator, prepared parts) while an observer runs
        self.enabled: List[Any] = []  # (other switch, its previous setting) in quantizing modes

    def refresh(self) -> None:
        """Take the model's current real quantizers (a QuantizationConfig may have replaced
        stubs since the last state change); the switch is attached to new ones."""
        current, seen = [], set()
        for m in self.model.modules():
            if isinstance(m, Quantizer) and not m.is_stub() and id(m) not in seen:
                seen.add(id(m))
                current.append(m)
        if not current:
            raise QuantizationError(
                "set_qmodule_state: %s has no quantizers (only stubs or none); give it some first "
                "(ff.quantize, or quantize_model and a QuantizationConfig)" % type(self.model).__name__)
        known = {id(q) for q in self.quantizers}
        self.switch.attach_to([q for q in current if id(q) not in known])
        self.quantizers = current

    def undo(self) -> None:
        """Take away what the current mode installed."""
        if self.estimation is not None:
            estimation, self.estimation = self.estimation, None
            end_estimation(*estimation)
        if self.strict_handle is not None:
            handle, self.strict_handle = self.strict_handle, None
            handle.remove()
        for other, previous in reversed(self.enabled):
            other.quantization_enabled = previous
        self.enabled = []

    def apply(self, state: QModuleState, observer: Any) -> None:
        self.refresh()
        self.undo()
        quantize = state in (QModuleState.QUANT_AWARE_TRAIN, QModuleState.QUANTIZED_EVAL)
        self.switch.enable_quantization(quantize)
        if quantize:
            # explicit: also the switches others attached (ff.quantize holds activations back
            # until ff.calibration) let data through to quantization while the mode lasts
            seen = {id(self.switch)}
            for q in self.quantizers:
                for fn in q.overrides:
                    if isinstance(fn, DisableQuantizationOverride) and id(fn) not in seen:
                        seen.add(id(fn))
                        self.enabled.append((fn, fn.quantization_enabled))
                        fn.quantization_enabled = True
        else:
            self.strict_handle = strict_quantization_for_module(False, self.model)
        if state is QModuleState.CALIBRATE and observer is None:
            observer = RunningMinMaxRangeEstimator
        if state in (QModuleState.CALIBRATE, QModuleState.QUANT_AWARE_TRAIN) and observer is not None:
            if isinstance(observer, type):
                observer = observer(skip_unsupported_quantizers=True)
            self.estimation = start_estimation(self.quantizers, observer)
        self.state = state
        self.observer = observer

    def release(self) -> None:
        """Undo the mode and detach the switch (the model leaves mode control)."""
        self.undo()
        self.switch.detach()


def _controller(model: torch.nn.Module) -> _Controller:
    ctl = model.__dict__.get(_KEY)
    if ctl is None:
        ctl = _Controller(model)
        ctl.refresh()  # no quantizers: an error, and nothing is left on the model
        model.__dict__[_KEY] = ctl
    return ctl


def get_qmodule_state(model: torch.nn.Module) -> Optional[QModuleState]:
    """The mode set on ``model`` (None if never set)."""
    ctl = model.__dict__.get(_KEY)
    return None if ctl is None else ctl.state


def set_qmodule_state(model: torch.nn.Module, state: QModuleState, *, observer: Any = None) -> None:
    """Put every real quantizer of ``model`` in ``state`` (see module doc). ``observer``: a
    range estimator (class or instance) for CALIBRATE (default running min-max) and, if
    given, QUANT_AWARE_TRAIN."""
    if not isinstance(state, QModuleState):
        state = QModuleState(state)
    _controller(model).apply(state, observer)


@contextlib.contextmanager
def qmodule_state(model: torch.nn.Module, state: QModuleState, *, observer: Any = None) -> Iterator[None]:
    """``set_qmodule_state`` for the block; the previous mode comes back at exit."""
    ctl = _controller(model)
    previous, previous_observer = ctl.state, ctl.observer
    ctl.apply(state if isinstance(state, QModuleState) else QModuleState(state), observer)
    try:
        yield
    finally:
        if previous is None:
            ctl.release()
            del model.__dict__[_KEY]
        else:
            ctl.apply(previous, previous_observer)


"""Range-setting protocols, the estimator base classes and ``estimate_ranges``."""

from __future__ import annotations

import abc
import contextlib
import warnings
from typing import Any, Callable, Dict, Generic, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import torch

try:
    from typing import Protocol, runtime_checkable
except ImportError:  # pragma: no cover
    from typing_extensions import Protocol, runtime_checkable  # type: ignore

from fastforward.nn.quantizer import Quantizer

__all__ = [
    "RangeEstimator",
    "RangeSettable",
    "SimpleEstimatorStep",
    "SupportsRangeBasedOperator",
    "estimate_ranges",
    "quantizers_of",
    "tile_minmax",
]

T = TypeVar("T")


@runtime_checkable
class RangeSettable(Protocol):
    """A quantizer whose range can be read and set: ``granularity`` and a writable
    ``quantization_range`` (``(None, None)`` when not set)."""

    @property
    def granularity(self) -> Any: ...

    @property
    def quantization_range(self) -> Tuple[Any, Any]: ...


@runtime_checkable
class SupportsRangeBasedOperator(RangeSettable, Protocol):
    """Range-settable, plus ``symmetric`` and ``operator_for_range(min, max, shape)``."""

    @property
    def symmetric(self) -> bool: ...

    def operator_for_range(self, min_range: torch.Tensor, max_range: torch.Tensor,
                           data_shape: torch.Size) -> Callable[[torch.Tensor], torch.Tensor]: ...


def quantizers_of(module: torch.nn.Module, skip_stubs: bool = True) -> Iterator[Tuple[str, Quantizer]]:
    """(path, quantizer) for every quantizer in ``module``, the root included (path '')."""
    seen = set()
    for name, sub in module.named_modules():
        if isinstance(sub, Quantizer) and id(sub) not in seen:
            seen.add(id(sub))
            if skip_stubs and sub.is_stub():
                continue
            if name and not getattr(sub, "_ff_path", None):
                sub._ff_path = name
            yield name, sub


class RangeEstimator(abc.ABC, Generic[T]):
    """Estimates ranges: ``prepare`` each part of a module, ``cleanup`` afterwards."""

    @abc.abstractmethod
    def prepare(self, module: torch.nn.Module) -> T:
        """Set ``module`` up for estimation; the result is passed to ``cleanup``."""

    @abc.abstractmethod
    def cleanup(self, module: torch.nn.Module, metadata: T) -> None:
        """Undo ``prepare``."""

    def split_module(self, module: torch.nn.Module) -> Iterator[torch.nn.Module]:
        """The parts of ``module`` handled separately (default: the module itself)."""
        yield module


@contextlib.contextmanager
def estimate_ranges(model_or_layers: Union[torch.nn.Module, Sequence[torch.nn.Module]],
                    estimator: Union[RangeEstimator, type], *args: Any, **kwargs: Any) -> Iterator[None]:
    """Within the with block, calls through the quantizers of ``model_or_layers`` update
    their ranges with ``estimator`` (an instance, or a class built with the extra args)."""
    estimator, prepared = start_estimation(model_or_layers, estimator, *args, _stacklevel=4, **kwargs)
    try:
        yield
    finally:
        end_estimation(estimator, prepared)


def start_estimation(model_or_layers: Union[torch.nn.Module, Sequence[torch.nn.Module]],
                     estimator: Union[RangeEstimator, type], *args: Any, _stacklevel: int = 2,
                     **kwargs: Any) -> Tuple[Any, List[Tuple[torch.nn.Module, Any]]]:
    """What entering ``estimate_ranges`` does: (the estimator, the prepared parts) for
    ``end_estimation``. Plain data, so a holder of them pickles (``qmodule_state``)."""
    if isinstance(estimator, type):
        estimator = estimator(*args, **kwargs)
    elif args or kwargs:
        raise ValueError("estimate_ranges: extra arguments are only allowed with an estimator class")
    if not all(hasattr(estimator, name) for name in ("split_module", "prepare", "cleanup")):
        raise TypeError(
            "estimate_ranges: the estimator must be a RangeEstimator or its class (e.g. "
            "fastforward.range_setting.running_minmax, RunningMinMaxRangeEstimator(), mse_grid), "
            "got %s %r" % (type(estimator).__name__, estimator))
    if isinstance(model_or_layers, torch.nn.Module):  # errors name quantizers by their path
        from fastforward.nn.quantized_module import label_quantizer_paths

        label_quantizer_paths(model_or_layers)
    modules = [model_or_layers] if isinstance(model_or_layers, torch.nn.Module) else list(model_or_layers)
    prepared: List[Tuple[torch.nn.Module, Any]] = []
    try:
        for module in modules:
            for part in estimator.split_module(module):
                prepared.append((part, estimator.prepare(part)))
    except BaseException:
        end_estimation(estimator, prepared)
        raise
    if not prepared and modules:
        import warnings

        warnings.warn(
            "estimate_ranges: %s has no quantizer to estimate (only stubs, or none); nothing "
            "will be calibrated (put quantizers in first: ff.find_quantizers(...).initialize, "
            "a QuantizationConfig, or ff.quantize)"
            % ", ".join(type(m).__name__ for m in modules[:3]), UserWarning, stacklevel=_stacklevel)
    return estimator, prepared


def end_estimation(estimator: Any, prepared: List[Tuple[torch.nn.Module, Any]]) -> None:
    """What leaving ``estimate_ranges`` does (the estimator's cleanup of every part)."""
    for part, metadata in reversed(prepared):
        estimator.cleanup(part, metadata)


class SimpleEstimatorStep(abc.ABC):
    """An override running ``estimate_step`` on each call (``setup_estimator`` first),
    then the rest of the chain, or returning the data unquantized when
    ``disable_quantization``."""

    def __init__(self, *, disable_quantization: bool = False) -> None:
        self.disable_quantization = disable_quantization
        self._ready = False

    quantizer: Any = None  # the quantizer being estimated (set before setup_estimator)

    def setup_estimator(self, data: torch.Tensor) -> None:
        """First-call initialisation (``self.quantizer`` is set)."""

    @abc.abstractmethod
    def estimate_step(self, quantizer: Any, data: torch.Tensor) -> None:
        """Update the statistics with ``data`` and set the quantizer's range."""

    def __call__(self, quantizer: Any, callback: Callable[..., Any], args: Sequence[Any],
                 kwargs: Dict[str, Any]) -> Any:
        data = args[0] if args else kwargs["data"]
        if not isinstance(data, torch.Tensor):
            from fastforward.nn.quantizer import describe

            raise TypeError(
                "%s: range estimation needs a tensor, got %s %r"
                % (describe(quantizer), type(data).__name__, data)
            )
        try:
            if not self._ready:
                object.__setattr__(self, "quantizer", quantizer)  # not a submodule of the step
                self.setup_estimator(data)
                self._ready = True
            self.estimate_step(quantizer, data)
        except ValueError as exc:  # (a granularity that does not fit the data, ...): name the quantizer
            from fastforward.nn.quantizer import describe

            who = describe(quantizer)
            if who in str(exc):
                raise
            raise ValueError("%s: %s" % (who, exc)) from exc
        if self.disable_quantization or getattr(quantizer, "has_uninitialized_params", False):
            # (A quantizer the step left without a range, as an update_range_policy that
            # waits for more batches does, cannot quantize yet: the data pass on as they are.)
            # A new tensor object on the same data, as a quantizer returns a new object: code
            # that compares identities (`if q is k:` in torch's attention) takes the branch
            # during calibration that it takes once quantized, so that branch's quantizers are
            # the ones calibrated.
            return data.view_as(data) if type(data) in (torch.Tensor, torch.nn.Parameter) else data
        return callback(*args, **kwargs)


def is_quantized(x: Any) -> bool:
    """Whether ``x`` is a QuantizedTensor (told by its attributes: no import of the class)."""
    return isinstance(x, torch.Tensor) and hasattr(x, "raw_data") and hasattr(x, "quantization_context")


def real_values(x: torch.Tensor) -> torch.Tensor:
    """The values range setting reads: a QuantizedTensor's dequantized values (a quantizer
    fed another one's output, a requantization), any other tensor as it is."""
    return x.dequantize() if is_quantized(x) else x


def storage_order(x: torch.Tensor) -> torch.Tensor:
    """``x`` with its dims permuted into the order its elements lie in memory, when that
    makes it contiguous (a channels_last or transposed tensor), else ``x``: a reduction over
    every element does not depend on the order, and torch's is many times slower over a
    permuted tensor (11 against 0.07 ms for a 1 x 384 x 56 x 56 channels_last tensor)."""
    if x.is_contiguous() or x.dim() < 2:
        return x
    order = sorted(range(x.dim()), key=lambda d: (-x.stride(d), -x.size(d)))
    y = x.permute(order)
    return y if y.is_contiguous() else x


def aminmax(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``torch.aminmax(x)`` (one pass), or ``(x.amin(), x.amax())`` where torch has no
    aminmax kernel for the dtype (torch 1.13 has none for float16 on the CPU)."""
    try:
        return torch.aminmax(x)
    except RuntimeError:
        return x.amin(), x.amax()


def tile_minmax(data: torch.Tensor, granularity: Any, who: str = "range estimation",
                reject_infinite: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-tile (min, max) of ``data`` as float32 vectors, ignoring NaN and +-Inf (counted in
    a warning). A tile without finite values gives (+inf, -inf). ``reject_infinite``: data
    holding +-Inf is a NotImplementedError instead (the running min-max estimator's rule)."""
    from fastforward.quantization.affine import _kernels

    with torch.no_grad():
        x = real_values(data.detach())
        if not x.is_floating_point():
            raise TypeError("%s: expected floating-point data, got %s" % (who, x.dtype))
        tile = _kernels.tile_shape(x.shape, granularity.tile_size(x.shape))
        n = _kernels.num_tiles(x.shape, tile) if x.numel() else granularity.parameter_dimensionality(x.shape)
        if x.numel() == 0:
            inf = torch.full((max(n, 1),), float("inf"))
            return inf, -inf
        view = x.reshape(_kernels._split(x.shape, tile)[0]) if x.dim() else x.reshape(1, 1)
        dims = tuple(range(1, view.dim(), 2))
        # One pass over the data (two with several tiles): min and max propagate NaN and
        # reach +-Inf, so finite results mean finite data; only then is the mask of finite
        # values needed (it took four passes and a bool tensor on every call: calibrating
        # timm's convnext_tiny spent 11 of its 21 s here).
        if n == 1:
            lo, hi = aminmax(storage_order(x))
        else:
            lo, hi = view.amin(dims), view.amax(dims)
        if bool(torch.isfinite(lo).all()) and bool(torch.isfinite(hi).all()):
            return lo.reshape(-1).float(), hi.reshape(-1).float()
        if reject_infinite and bool(torch.isinf(view).any()):
            raise NotImplementedError(
                "%s: the data holds infinite values, so its minimum or maximum is infinite; min-max "
                "range estimation does not handle that (fastforward.calibration passes such tensors, "
                "e.g. -inf attention masks, on unquantized)" % who
            )
        finite = torch.isfinite(view)
        bad = int((~finite).sum())
        warnings.warn(
            "%s: ignored %d non-finite value(s) (NaN or Inf) in %d" % (who, bad, x.numel()),
            RuntimeWarning, stacklevel=3,
        )
        inf = torch.tensor(float("inf"), dtype=view.dtype, device=view.device)
        lo = torch.where(finite, view, inf).amin(dims)
        hi = torch.where(finite, view, -inf).amax(dims)
        return lo.reshape(-1).float(), hi.reshape(-1).float()


def current_range(quantizer: Any, n: int) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    """The quantizer's range as two float32 vectors of ``n`` entries, or None when unset."""
    lo, hi = quantizer.quantization_range
    if lo is None or hi is None:
        return None
    with torch.no_grad():
        lo = torch.as_tensor(lo).detach().float().reshape(-1)
        hi = torch.as_tensor(hi).detach().float().reshape(-1)
    if lo.numel() == 1 and n != 1:
        lo, hi = lo.expand(n).clone(), hi.expand(n).clone()
    if lo.numel() != n:
        return None
    return lo.clone(), hi.clone()

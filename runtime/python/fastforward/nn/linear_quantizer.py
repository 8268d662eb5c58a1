"""Affine quantizers with learnable (lazily shaped) scale and offset."""

from __future__ import annotations

import abc
import weakref
from typing import Any, Callable, Generic, List, Optional, Sequence, Tuple, TypeVar, Union

import torch
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

from fastforward.common import ensure_tensor
from fastforward.flags import get_export_mode
from fastforward.nn.quantizer import Quantizer, describe, float_input
from fastforward.quantization import affine
from fastforward.quantization.affine import _kernels
from fastforward.quantization.affine import AffineQuantizationFunction, StaticAffineQuantParams
from fastforward.quantization.function import QuantizationContext
from fastforward.quantization.granularity import Granularity, PerChannel, PerTensor
from fastforward.quantized_tensor import QuantizedTensor, _codes_of

__all__ = ["AbstractAffineQuantizer", "LinearQuantizer"]


_Params = TypeVar("_Params")


class AbstractAffineQuantizer(Quantizer, Generic[_Params], metaclass=abc.ABCMeta):
    """Shared base of affine quantizers: bit width, granularity and storage dtype. Abstract:
    a subclass provides ``quantization_function`` and ``quantization_parameters()``; generic
    in the parameters type (``AbstractAffineQuantizer[StaticAffineQuantParams]``)."""

    def __init__(self, num_bits: int, *, granularity: Optional[Granularity] = None,
                 quantized_dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        self.num_bits = _kernels.check_num_bits(num_bits, "%s(num_bits=%r)" % (type(self).__name__, num_bits))
        if granularity is not None and not isinstance(granularity, Granularity):
            raise TypeError("%s: granularity must be a Granularity, got %r" % (type(self).__name__, granularity))
        self.granularity = granularity if granularity is not None else PerTensor()
        self.quantized_dtype = quantized_dtype

    @property
    def per_channel(self) -> bool:
        return isinstance(self.granularity, PerChannel)

    @property
    def per_tensor(self) -> bool:
        return isinstance(self.granularity, PerTensor)

    @property
    def integer_minimum(self) -> float:
        return affine.integer_minimum(self.num_bits)

    @property
    def integer_maximum(self) -> float:
        return affine.integer_maximum(self.num_bits)

    @property
    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer is still lazy (range not set yet)."""
        lazy = (UninitializedParameter, UninitializedBuffer)
        for slot in (self._parameters, self._buffers):
            for t in slot.values():
                if isinstance(t, lazy):
                    return True
        return False

    @property
    @abc.abstractmethod
    def quantization_function(self) -> type:
        """The QuantizationFunction class this quantizer applies."""

    @abc.abstractmethod
    def quantization_parameters(self) -> Any:
        """The parameters it applies it with."""

    def quantization_context(self) -> QuantizationContext:
        """The function and parameters this quantizer applies."""
        return QuantizationContext(self.quantization_function, self.quantization_parameters())

    def quantize(self, data: torch.Tensor) -> torch.Tensor:
        try:
            return self.quantization_function.quantize(data, self.quantization_parameters())
        except (ValueError, TypeError) as exc:
            raise type(exc)("%s: %s" % (describe(self), exc)) from None

    def extra_repr(self) -> str:
        extra = "num_bits=%d, granularity=%r" % (self.num_bits, self.granularity)
        base = super().extra_repr()
        return extra + (", " + base if base else "")


class LinearQuantizer(AbstractAffineQuantizer):
    """Static affine quantizer with a learnable ``scale`` (and ``offset`` when asymmetric).

    Parameters are lazy until a range is set (``quantization_range = (min, max)`` or range
    setting); their shape is then one entry per tile of ``granularity``.
    """

    def __init__(self, num_bits: int, symmetric: bool = True, allow_one_sided: bool = True,
                 granularity: Optional[Granularity] = None, device: Union[torch.device, str] = "cpu",
                 *, quantized_dtype: Optional[torch.dtype] = None,
                 param_dtype: Optional[torch.dtype] = None) -> None:
        super().__init__(num_bits, granularity=granularity, quantized_dtype=quantized_dtype)
        self.allow_one_sided = bool(allow_one_sided)
        # None: torch's default dtype when the quantizer is made, as for a torch layer's weight
        self._param_dtype = param_dtype or torch.get_default_dtype()
        self._device = torch.device(device)
        self._make_lazy(bool(symmetric))

    def _make_lazy(self, symmetric: bool) -> None:
        kw = {"device": self._device, "dtype": self._param_dtype}
        self.scale = UninitializedParameter(**kw)
        if symmetric and not self.allow_one_sided:
            self.register_parameter("offset", None)
        elif symmetric:
            self.register_buffer("offset", UninitializedBuffer(**kw))
        else:
            self.offset = UninitializedParameter(**kw)

    @property
    def symmetric(self) -> bool:
        """True when the offset is a buffer (one-sided switch) or absent."""
        return "offset" in self._buffers or self.offset is None

    def reset_parameters(self) -> None:
        """Return scale and offset to the lazy (uninitialized) state."""
        symmetric = self.symmetric
        if isinstance(self.scale, torch.Tensor) and not isinstance(self.scale, UninitializedParameter):
            self._device, self._param_dtype = self.scale.device, self.scale.dtype
        for name in ("scale", "offset"):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
        self._make_lazy(symmetric)

    @property
    def quantization_function(self) -> type:
        return AffineQuantizationFunction

    def quantization_parameters(self) -> StaticAffineQuantParams:
        if self.has_uninitialized_params:
            raise ValueError(
                "%s is uninitialized: set its range directly (quantizer.quantization_range = "
                "(min, max)) or by range setting (fastforward.estimate_ranges)" % describe(self)
            )
        return StaticAffineQuantParams(
            scale=self.scale, offset=self.offset, num_bits=self.num_bits,
            granularity=self.granularity, quantized_dtype=self.quantized_dtype,
        )

    def quantize(self, data: torch.Tensor) -> torch.Tensor:
        if type(self) is LinearQuantizer and not torch.is_grad_enabled():
            if type(data) is torch.Tensor and (data.dim() or data is not float_input(self)):  # (a float: memo below)
                fast = _fast_quantize(self, data)
                if fast is not None:
                    return fast
            elif isinstance(data, QuantizedTensor):
                fast = _fast_requantize(self, data)
                if fast is not None:
                    return fast
        memo = self._memo_key(data)
        if memo is not None:
            last = _LAST_PARAMETER.get(self)
            if last is not None and last[0] == memo and last[1]() is data and _unchanged(last[2]):
                return last[2][0]
        params = self.quantization_parameters()
        try:
            if memo is not None and torch.is_inference_mode_enabled():
                # kept for later calls: made as an ordinary tensor (an inference tensor has no
                # version counter, so the memo could never tell that it is still unchanged)
                with torch.inference_mode(False), torch.no_grad():
                    result = AffineQuantizationFunction.quantize(data, params)
            else:
                result = AffineQuantizationFunction.quantize(data, params)
        except (ValueError, TypeError) as exc:
            raise type(exc)("%s: %s" % (describe(self), exc)) from None
        if memo is not None and isinstance(result, torch.Tensor) and type(result) is not torch.Tensor:
            try:
                raw = result.raw_data
                _LAST_PARAMETER[self] = (memo, weakref.ref(data), (result, raw, raw._version))
            except (AttributeError, RuntimeError, TypeError):
                pass
        return result

    def _memo_key(self, data: Any) -> Optional[Tuple[Any, ...]]:
        """Outside autograd, quantizing the same unchanged parameter (a weight) with the
        same unchanged scale and offset gives the same result: this key (version counters
        and data pointers) says when the last result can be returned again, so a frozen
        forward pass does not requantize its weights, and the integer kernels find their
        packed weights cached. The same for a Python float the forward turned into a tensor
        (``fastforward.nn.quantizer.float_input``: the same tensor for the same value). A
        one-element scale or offset is compared by value too (a write through ``.data``
        leaves its version counter as it was). None when that does not apply."""
        if ((type(data) is not torch.nn.Parameter and data is not float_input(self)) or torch.is_grad_enabled()
                or get_export_mode() or self.has_uninitialized_params):
            return None
        try:
            key: List[Any] = [data.data_ptr(), data._version, tuple(data.shape), tuple(data.stride()), data.dtype,
                              self.num_bits, self.granularity, self.quantized_dtype]
            for t in (self.scale, self.offset):
                if t is None:
                    key += [None, None, None, None]
                else:
                    # (read through a FloatWatch: float(t) costs more than the rest of the key)
                    one = t.dtype == torch.float32 and t.numel() == 1 and t.is_cpu and t.layout == torch.strided
                    key += [id(t), t.data_ptr(), t._version, _modules()[1]._watch(t).read() if one else None]
        except RuntimeError:  # inference tensors have no version counter
            return None
        return tuple(key)

    @property
    def quantization_range(self) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """(min, max) the quantizer represents, or (None, None) before a range is set."""
        if self.has_uninitialized_params:
            return None, None
        return affine.quantization_range(self.scale, self.offset, self.num_bits)

    @quantization_range.setter
    def quantization_range(self, quant_range: Sequence[Union[torch.Tensor, float]]) -> None:
        if not isinstance(quant_range, (tuple, list)):
            raise ValueError(
                "%s: a quantization range is a 2-tuple (min, max), got %r" % (describe(self), quant_range)
            )
        if len(quant_range) != 2:
            raise ValueError(
                "%s: a quantization range is a 2-tuple (min, max), got %d values"
                % (describe(self), len(quant_range))
            )
        device = self._device if isinstance(self.scale, UninitializedParameter) else self.scale.device
        lo, hi = (ensure_tensor(v, device=device).detach().reshape(-1) for v in quant_range)
        if lo.numel() != hi.numel():
            raise ValueError(
                "%s: range min has %d entries but max has %d" % (describe(self), lo.numel(), hi.numel())
            )
        if not (bool(torch.isfinite(lo).all()) and bool(torch.isfinite(hi).all())):
            raise ValueError("%s: quantization range must be finite, got (%r, %r)" % (describe(self), lo, hi))
        with torch.no_grad():
            scale, offset = affine.parameters_for_range(lo, hi, self.num_bits, self.symmetric, self.allow_one_sided)
            n = scale.numel()
            for name in ("scale", "offset"):
                tensor = getattr(self, name)
                if isinstance(tensor, (UninitializedParameter, UninitializedBuffer)):
                    tensor.materialize((n,))
                    tensor.fill_(1.0 if name == "scale" else 0.0)
                    if tensor.is_inference():
                        # made under inference_mode: an ordinary tensor instead, as the
                        # parameters outlive the block (an inference tensor cannot be
                        # trained, nor saved for backward)
                        with torch.inference_mode(False), torch.no_grad():
                            plain = tensor.clone()
                        if name in self._parameters:
                            self._parameters[name] = torch.nn.Parameter(plain, tensor.requires_grad)
                        else:
                            self._buffers[name] = plain
                elif tensor is not None and tensor.numel() != n:
                    raise ValueError(
                        "%s: range has %d entries but the quantizer has %d parameters"
                        % (describe(self), n, tensor.numel())
                    )
            self.scale.copy_(scale.reshape(self.scale.shape))
            if self.offset is not None:
                if offset is None:
                    self.offset.fill_(0.0)
                else:
                    self.offset.copy_(offset.reshape(self.offset.shape))

    def operator_for_range(self, min_range: torch.Tensor, max_range: torch.Tensor,
                           data_shape: torch.Size) -> Callable[[torch.Tensor], torch.Tensor]:
        """A quantize operator for ``[min_range, max_range]``, independent of this quantizer."""
        scale, offset = affine.parameters_for_range(min_range, max_range, self.num_bits, self.symmetric, self.allow_one_sided)
        params = StaticAffineQuantParams(
            scale=scale, offset=offset, num_bits=self.num_bits, granularity=self.granularity,
            quantized_dtype=self.quantized_dtype,
        )
        return _RangeOperator(params)

    def extra_repr(self) -> str:
        return super().extra_repr() + ", symmetric=%s" % self.symmetric


# --- the fast path: a plain float32 tensor through a per-tensor 8-bit quantizer, outside
# autograd. What it needs of the quantizer is computed once and kept in _PREPARED (out of the
# module's own state, which is copied and saved), valid while the quantizer's settings and
# its scale / offset tensors are the same objects holding the same values; a call checks
# that, quantizes in one pass in C (the float32 grid values and their int8 codes, which it
# attaches to the result for the integer kernels) and wraps the result in a context made
# once. The values, dtype and context are those of the general path.

_PREPARED: "weakref.WeakKeyDictionary[Any, _Prepared]" = weakref.WeakKeyDictionary()


class _Prepared:
    __slots__ = ("scale", "scale_value", "offset", "offset_value", "num_bits", "granularity", "quantized_dtype",
                 "c_scale", "zero_point", "context", "qp")


def _scale_offset(q: Any) -> Tuple[Any, Any]:
    """``(q.scale, q.offset)`` from the module's dicts, as Module.__getattr__ finds them."""
    params = q._parameters
    offset = params["offset"] if "offset" in params else q._buffers.get("offset")
    return params.get("scale"), offset


_lazy: List[Any] = []  # (fastforward._ffqrt, fastforward._integer, QuantizedTensor helpers), on first use


def _modules() -> List[Any]:
    if not _lazy:
        from fastforward import _ffqrt, _integer
        from fastforward.quantization.affine._kernels import _zero_point_tensor
        from fastforward.quantized_tensor import _CODES, _Codes, _wrap_plain

        _lazy[:] = [_ffqrt, _integer, _zero_point_tensor, _CODES, _Codes, _wrap_plain]
    return _lazy


def _prepare(q: "LinearQuantizer") -> Optional[_Prepared]:
    """What the fast path needs of ``q``, or None when it does not apply to ``q``."""
    if (q.num_bits != 8 or type(q.granularity) is not PerTensor or q.has_uninitialized_params
            or q.quantized_dtype not in (None, torch.float32, torch.int8)):
        return None
    scale, offset = _scale_offset(q)
    if type(scale) not in (torch.Tensor, torch.nn.Parameter) or scale.dtype != torch.float32 or scale.numel() != 1:
        return None
    if offset is not None and (type(offset) not in (torch.Tensor, torch.nn.Parameter)
                               or offset.dtype != torch.float32 or offset.numel() != 1):
        return None
    if not scale.is_cpu or (offset is not None and not offset.is_cpu):
        return None
    _ffqrt, _integer, zero_point_tensor, _, _, _ = _modules()
    qp = _integer._scalar_qparam_of(scale, offset)  # finite scale > 0, zero point on the grid
    if qp is None:
        return None
    p = _Prepared()
    p.scale, p.offset = _ffqrt.FloatWatch(scale), None if offset is None else _ffqrt.FloatWatch(offset)
    p.scale_value, p.offset_value = p.scale.read(), None if offset is None else p.offset.read()
    if p.scale_value != qp.scale:
        return None  # changed since (another thread): prepared on the next call
    p.num_bits, p.granularity, p.quantized_dtype = q.num_bits, q.granularity, q.quantized_dtype
    p.c_scale = scale.detach().reshape(1)  # a plain tensor on the same memory, for C
    p.zero_point = None if offset is None or qp.zero_point == 0 else zero_point_tensor(qp.zero_point)
    p.qp = qp
    params = StaticAffineQuantParams(scale=scale, offset=offset, num_bits=q.num_bits, granularity=q.granularity,
                                     quantized_dtype=q.quantized_dtype, dequantize_dtype=torch.float32)
    p.context = QuantizationContext(AffineQuantizationFunction, params)
    return p


def _prepared(q: "LinearQuantizer") -> Optional[_Prepared]:
    p = _PREPARED.get(q)
    if p is not None:
        scale, offset = _scale_offset(q)
        if (scale is p.scale.tensor and q.num_bits == p.num_bits and q.granularity is p.granularity
                and q.quantized_dtype is p.quantized_dtype and p.scale.read() == p.scale_value
                and (offset is None if p.offset is None
                     else offset is p.offset.tensor and p.offset.read() == p.offset_value)):
            return p
    p = _prepare(q)
    if p is not None:
        _PREPARED[q] = p
    else:
        _PREPARED.pop(q, None)
    return p


def _fast_quantize(q: "LinearQuantizer", data: torch.Tensor) -> Optional[torch.Tensor]:
    """``q.quantize(data)`` for a plain float32 CPU ``data`` outside autograd, or None when
    the general path has to do it."""
    if data.dtype != torch.float32 or get_export_mode():
        return None
    if torch._C._get_tracing_state() is not None:
        return None
    p = _prepared(q)
    if p is None:
        return None
    _ffqrt, _integer, _, codes_key, Codes, wrap = _modules()
    flat = data if data.is_contiguous() else _ffqrt.dense_flat(data)
    if flat is None:
        return None
    keep_int8 = p.quantized_dtype is torch.int8
    out = _ffqrt.quantize8_per_tensor(flat, p.c_scale, p.zero_point, want_float=not keep_int8)
    if out is None:
        return None
    raw, q8 = out
    if flat is not data:
        # a transposed or permuted input: quantized in memory order, the results laid out
        # as the input is (as torch's elementwise ops lay out theirs)
        shape, stride = tuple(data.shape), tuple(data.stride())
        raw = None if raw is None else raw.as_strided(shape, stride)
        q8 = None if q8 is None else q8.as_strided(shape, stride)
    if keep_int8:
        raw = q8
    result = wrap(raw, p.context)
    if q8 is not None:
        try:
            result.__dict__[codes_key] = Codes(raw, q8, p.context, p.qp, p.scale, p.offset)
        except RuntimeError:  # inference tensors have no version counter: no codes kept
            pass
    return result


def _fast_requantize(q: "LinearQuantizer", data: Any) -> Optional[torch.Tensor]:
    """``q.quantize(data)`` for a QuantizedTensor carrying its int8 codes (a kernel's or a
    quantizer's result) whose requantization table onto ``q``'s grid exists already: the
    table applied to the codes, as ``fastforward._integer._requantize`` does it (which makes
    the table on first use); None otherwise."""
    _integer = _modules()[1]
    if not _integer.enabled() or get_export_mode():
        return None
    codes = _codes_of(data)
    if codes is None:
        return None
    p = _prepared(q)
    if p is None:
        return None
    qx, qy = codes.qp, p.qp
    key = (qx.scale, qx.zero_point, qy.scale, qy.zero_point)
    table = _integer._requant_cache.get(key)
    if table is None:
        return None
    return _integer._by_table(codes.raw, codes.q8, key, table, p.scale.tensor,
                              None if p.offset is None else p.offset.tensor, p.quantized_dtype, qy)


# quantizer -> (memo key, weak reference to the parameter, (result, its raw data, their
# version)): the last parameter each quantizer quantized outside autograd (kept out of
# the module's own state, which is copied and saved).
_LAST_PARAMETER: "weakref.WeakKeyDictionary[Any, Tuple[Any, ...]]" = weakref.WeakKeyDictionary()


def _unchanged(entry: Tuple[Any, ...]) -> bool:
    result, raw, version = entry
    try:
        return raw._version == version
    except RuntimeError:
        return False


class _RangeOperator:
    """``data -> QuantizedTensor`` with fixed static affine parameters."""

    def __init__(self, params: StaticAffineQuantParams) -> None:
        self.params = params

    def __call__(self, data: torch.Tensor) -> torch.Tensor:
        return AffineQuantizationFunction.quantize(data, self.params)

    def __repr__(self) -> str:
        return "operator_for_range(%r)" % (self.params,)

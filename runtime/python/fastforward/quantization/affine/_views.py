"""Built-in dispatcher kernels for static affine QuantizedTensors.

Per-tensor: shape and indexing ops (and ``topk`` / ``take_along_dim``, which only pick
elements) run on the raw data and keep the quantization context (one scale and offset cover
any shape, so nothing else changes); ``qt[key] = other`` copies raw data when ``other`` is on
the same grid. Per-channel: basic indexing (ints, slices, ``None``,
``...``) slices scale and offset along the channel dims together with the data; any other
key, and any key of a per-block or per-tile tensor, gathers them for the elements picked
(a per-channel or per-tensor result)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from fastforward import dispatcher
from fastforward.quantization.affine._affine import AffineQuantizationFunction, StaticAffineQuantParams
from fastforward.quantization.function import QuantizationContext
from fastforward.quantization.granularity import PerChannel, PerTensor, PerTile
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["SHAPE_OPS", "per_channel_getitem"]

SHAPE_OPS = (
    "view", "view_as", "reshape", "reshape_as", "transpose", "t", "permute", "expand",
    "expand_as", "__getitem__", "unsqueeze", "squeeze", "flatten", "unflatten", "narrow",
    "select", "split", "chunk", "unbind", "flip", "movedim", "T", "mT",
)


def is_per_tensor_affine(*args: Any, **kwargs: Any) -> bool:
    """Whether the first argument is a QuantizedTensor with static per-tensor affine params."""
    if not args or not isinstance(args[0], QuantizedTensor):
        return False
    context = args[0].quantization_context
    return (
        isinstance(context, QuantizationContext)
        and context.quantization_fn is AffineQuantizationFunction
        and isinstance(context.quantization_params, StaticAffineQuantParams)
        and isinstance(context.quantization_params.granularity, PerTensor)
    )


def _rewrap(value: Any, context: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return QuantizedTensor(value, context)
    if isinstance(value, (tuple, list)):
        return type(value)(_rewrap(v, context) for v in value)
    return value


def _shape_kernel(name: str) -> Callable[..., Any]:
    attr = getattr(torch.Tensor, name)
    getter = getattr(attr, "__get__", None) if isinstance(attr, property) or not callable(attr) else None

    def kernel(self: QuantizedTensor, *args: Any, **kwargs: Any) -> Any:
        if name == "view" and (args and isinstance(args[0], torch.dtype) or "dtype" in kwargs):
            raise TypeError("view(dtype) would reinterpret the raw data of a QuantizedTensor")
        raw = self.raw_data
        if getter is not None:
            result = getter(raw)
        else:
            args = tuple(a.raw_data if isinstance(a, QuantizedTensor) else a for a in args)
            result = attr(raw, *args, **kwargs)
        return _rewrap(result, self.quantization_context)

    kernel.__name__ = "per_tensor_" + name.strip("_")
    return kernel


for _name in SHAPE_OPS:
    if hasattr(torch.Tensor, _name):
        dispatcher.register(_name, is_per_tensor_affine, _shape_kernel(_name))


def _topk(self: QuantizedTensor, *args: Any, **kwargs: Any) -> Any:
    """``topk`` of a per-tensor tensor: ranking raw integers ranks the real values (the
    scale is positive), so values come back quantized with the same context, indices plain."""
    values, indices = torch.topk(self.raw_data, *args, **kwargs)
    return torch.return_types.topk((QuantizedTensor(values, self.quantization_context), indices))


def _take_along_dim(self: QuantizedTensor, *args: Any, **kwargs: Any) -> QuantizedTensor:
    return QuantizedTensor(torch.take_along_dim(self.raw_data, *args, **kwargs), self.quantization_context)


dispatcher.register("topk", is_per_tensor_affine, _topk)
dispatcher.register("take_along_dim", is_per_tensor_affine, _take_along_dim)


def _same_grid(a: QuantizedTensor, b: Any) -> bool:
    """``b`` is a QuantizedTensor on ``a``'s per-tensor grid: same quantization function, bit
    width, storage and dequantized dtypes, and equal scale and offset."""
    if not isinstance(b, QuantizedTensor) or not is_per_tensor_affine(b):
        return False
    pa, pb = a.quantization_context.quantization_params, b.quantization_context.quantization_params
    if pa is pb:
        return True
    if (pa.num_bits != pb.num_bits or pa.quantized_dtype != pb.quantized_dtype
            or pa.dequantize_dtype != pb.dequantize_dtype or (pa.offset is None) != (pb.offset is None)):
        return False
    with torch.no_grad():
        return bool(torch.equal(pa.scale, pb.scale)) and (pa.offset is None or bool(torch.equal(pa.offset, pb.offset)))


def _setitem_same_grid(*args: Any, **kwargs: Any) -> bool:
    return len(args) == 3 and not kwargs and is_per_tensor_affine(args[0]) and _same_grid(args[0], args[2])


def _setitem(self: QuantizedTensor, key: Any, value: QuantizedTensor) -> None:
    """``qt[key] = other`` with ``other`` on ``qt``'s grid (a slice of the same tensor, or of
    one its quantizer made): the values are exact there, so the raw integers are copied. A
    value on another grid, or a float one, has no kernel: writing it would quantize it again
    (the NotImplementedError of every in-place change)."""
    self.raw_data[key] = value.raw_data


dispatcher.register("__setitem__", _setitem_same_grid, _setitem)


# --- per-channel indexing ----------------------------------------------------------------------


def _is_per_channel_affine(*args: Any, **kwargs: Any) -> bool:
    return (len(args) == 2 and _is_static_affine(args[0])
            and isinstance(args[0].quantization_context.quantization_params.granularity, PerChannel)
            and _basic_key(args[1]) is not None)


def _basic_key(key: Any) -> Any:
    """``key`` as a tuple of ints, slices, None and at most one Ellipsis, or None when it
    uses advanced (tensor, list, bool) indexing."""
    items = key if isinstance(key, tuple) else (key,)
    for item in items:
        if isinstance(item, bool) or not (item is None or item is Ellipsis or isinstance(item, (int, slice))):
            return None
    if sum(item is Ellipsis for item in items) > 1:
        return None
    return items


def per_channel_getitem(self: QuantizedTensor, key: Any) -> QuantizedTensor:
    """``qt[key]`` of a per-channel tensor: data, scale and offset are indexed alike.

    Scale and offset hold one entry per combination of the channel dims (row-major), so they
    are viewed with the channel dims' sizes, indexed with the key's entries for those dims and
    flattened again. Channel dims indexed by an int disappear; with none left the result is
    per-tensor."""
    params = self.quantization_context.quantization_params
    rank = self.raw_data.dim()
    channel_dims = sorted(d % rank for d in params.granularity.channel_dims)
    items = list(_basic_key(key))
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    if consumed > rank:
        raise IndexError("too many indices for a tensor of dimension %d" % rank)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * (rank - consumed)
    else:
        items += [slice(None)] * (rank - consumed)
    param_key, new_dims, out_dim, in_dim = [], [], 0, 0
    for item in items:
        if item is None:
            out_dim += 1
            continue
        if in_dim in channel_dims:
            param_key.append(item)
            if isinstance(item, slice):
                new_dims.append(out_dim)
        if isinstance(item, slice):
            out_dim += 1
        in_dim += 1
    channel_shape = [self.raw_data.shape[d] for d in channel_dims]

    def index(parameter: Any) -> Any:
        if not isinstance(parameter, torch.Tensor) or parameter.numel() == 1 and not channel_shape:
            return parameter
        return parameter.reshape(channel_shape)[tuple(param_key)].reshape(-1)

    granularity = PerChannel(tuple(new_dims)) if new_dims else PerTensor()
    changes = {"scale": index(params.scale), "offset": index(params.offset), "granularity": granularity}
    context = QuantizationContext(AffineQuantizationFunction, params.with_changes(**changes))
    return QuantizedTensor(self.raw_data[tuple(items)], context)


# --- mul by a number and cat of equally parameterised tensors ------------------------------------


def _is_static_affine(value: Any) -> bool:
    if not isinstance(value, QuantizedTensor):
        return False
    context = value.quantization_context
    return (
        isinstance(context, QuantizationContext)
        and context.quantization_fn is AffineQuantizationFunction
        and isinstance(context.quantization_params, StaticAffineQuantParams)
    )


def _no_output_quantizer(kwargs: Any) -> bool:
    quantizer = kwargs.get("output_quantizer")
    return quantizer is None or bool(getattr(quantizer, "is_stub", lambda: False)())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mul_operands(args: Any, kwargs: Any) -> Any:
    """(quantized tensor, number) of a mul call in torch or functional form, or None."""
    a = args[0] if len(args) > 0 else kwargs.get("input")
    b = args[1] if len(args) > 1 else kwargs.get("other")
    return (a, b) if _is_static_affine(a) and _is_number(b) else None


def _mul_by_number_applies(*args: Any, **kwargs: Any) -> bool:
    return _mul_operands(args, kwargs) is not None and _no_output_quantizer(kwargs)


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, raw: torch.Tensor, factor: float) -> torch.Tensor:  # type: ignore[override]
        ctx.factor = factor
        return raw.view_as(raw)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        return grad * ctx.factor, None


def mul_by_number(*args: Any, **kwargs: Any) -> QuantizedTensor:
    """``qt * c``: the same raw data with the scale multiplied by ``c``."""
    qt, factor = _mul_operands(args, kwargs)
    params = qt.quantization_context.quantization_params
    raw = qt.raw_data
    if torch.is_grad_enabled() and raw.requires_grad:
        raw = _ScaleGrad.apply(raw, float(factor))
    context = QuantizationContext(AffineQuantizationFunction, params.with_changes(scale=params.scale * factor))
    return QuantizedTensor(raw, context)


def _cat_operands(args: Any, kwargs: Any) -> Any:
    tensors = args[0] if args else kwargs.get("tensors")
    if not isinstance(tensors, (list, tuple)) or not tensors:
        return None
    if not all(is_per_tensor_affine(t) for t in tensors):
        return None
    first = tensors[0].quantization_context.quantization_params
    for t in tensors[1:]:
        p = t.quantization_context.quantization_params
        if p.num_bits != first.num_bits or not _same(p.scale, first.scale) or not _same(p.offset, first.offset):
            return None
    return tensors


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    return bool(torch.equal(torch.as_tensor(a), torch.as_tensor(b)))


def _cat_applies(*args: Any, **kwargs: Any) -> bool:
    return _cat_operands(args, kwargs) is not None and _no_output_quantizer(kwargs)


def cat_same_parameters(*args: Any, **kwargs: Any) -> QuantizedTensor:
    """``cat`` of per-tensor tensors sharing scale and offset: concatenated raw data."""
    tensors = _cat_operands(args, kwargs)
    # the call's other arguments go to torch.cat as given: torch names the dimension
    # `dim` or NumPy's `axis` (transformers' Funnel: torch.cat([cls, x], axis=axis))
    rest = {k: v for k, v in kwargs.items() if k not in ("tensors", "output_quantizer", "strict_quantization")}
    raw = torch.cat([t.raw_data for t in tensors], *args[1:], **rest)
    return QuantizedTensor(raw, tensors[0].quantization_context)


# --- any other indexing of a tiled tensor ---------------------------------------------------------


def _is_tiled_affine(*args: Any, **kwargs: Any) -> bool:
    """A static affine tensor that is not per-tensor (per-channel with an advanced key, or
    per-block / per-tile with any key: the basic per-channel case has its own kernel)."""
    return (len(args) == 2 and not kwargs and _is_static_affine(args[0])
            and not isinstance(args[0].quantization_context.quantization_params.granularity, PerTensor))


def tiled_getitem(self: QuantizedTensor, key: Any) -> QuantizedTensor:
    """``qt[key]`` for any key and tiling: a per-channel (or per-tensor) result.

    Every element's tile number is indexed with the same key as the data, so the result
    knows which scale (and offset) each of its elements had; the output dims along which
    that number varies become the channel dims (all of them for a slice across blocks:
    a scale per element), and scale and offset are gathered in that order."""
    from fastforward.quantization.tiled_tensor import rows_to_tiles

    params = self.quantization_context.quantization_params
    raw = self.raw_data
    shape = tuple(raw.shape)
    tile = params.granularity.tile_size(raw.shape)
    count = int(params.granularity.parameter_dimensionality(raw.shape))
    per_tile = 1
    for t in (shape if isinstance(tile, str) else tile):
        per_tile *= int(t)
    with torch.no_grad():
        number = torch.arange(count, device=raw.device).unsqueeze(1).expand(count, per_tile)
        numbers = rows_to_tiles(number, shape, tile)[key]
    data = raw[key]
    if tuple(numbers.shape) != tuple(data.shape) or numbers.numel() == 0 and count == 0:
        raise NotImplementedError("'__getitem__' with key %r: the indexed parameters do not follow the data" % (key,))
    varying = [d for d in range(numbers.dim())
               if numbers.numel() and bool((numbers != numbers.narrow(d, 0, 1)).any())]
    if numbers.numel() == 0:
        picked = torch.zeros(1, dtype=torch.long, device=raw.device)
    else:
        picked = numbers[tuple(slice(None) if d in varying else 0 for d in range(numbers.dim()))].reshape(-1)

    def gather(parameter: Any) -> Any:
        if not isinstance(parameter, torch.Tensor) or parameter.numel() == 1:
            return parameter
        return parameter.reshape(-1)[picked.to(parameter.device)]

    granularity = PerChannel(tuple(varying)) if varying else PerTensor()
    changes = {"scale": gather(params.scale), "offset": gather(params.offset), "granularity": granularity}
    context = QuantizationContext(AffineQuantizationFunction, params.with_changes(**changes))
    return QuantizedTensor(data, context)


dispatcher.register("mul", _mul_by_number_applies, mul_by_number)
dispatcher.register("cat", _cat_applies, cat_same_parameters)
dispatcher.register("__getitem__", _is_tiled_affine, tiled_getitem)
dispatcher.register("__getitem__", _is_per_channel_affine, per_channel_getitem)


# --- unsqueeze of tiled (per-channel, per-block, per-tile) tensors --------------------------------


def _unsqueeze_dim(args: Any, kwargs: Any) -> Any:
    """The ``dim`` argument of an ``unsqueeze`` call (method or ``torch.unsqueeze``)."""
    if len(args) > 1:
        return args[1]
    return kwargs.get("dim")


def _is_tiled_affine_unsqueeze(*args: Any, **kwargs: Any) -> bool:
    return (bool(args) and _is_static_affine(args[0])
            and not isinstance(args[0].quantization_context.quantization_params.granularity, PerTensor)
            and isinstance(_unsqueeze_dim(args, kwargs), int))


def tiled_unsqueeze(*args: Any, **kwargs: Any) -> QuantizedTensor:
    """``qt.unsqueeze(dim)`` of a per-channel / per-block / per-tile tensor: the raw data gain
    a size-1 dim and the granularity follows it (channel dims at or after ``dim`` shift by
    one; any other tiling gets a size-1 tile dim there). The tiles keep their row-major order,
    so scale and offset are unchanged."""
    self = args[0]
    dim = _unsqueeze_dim(args, kwargs)
    rank = self.raw_data.dim()
    if not -(rank + 1) <= dim <= rank:
        raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but got %d)"
                         % (-(rank + 1), rank, dim))
    at = dim % (rank + 1)
    params = self.quantization_context.quantization_params
    granularity = params.granularity
    if isinstance(granularity, PerChannel):
        dims = tuple(sorted(d % rank if rank else 0 for d in granularity.channel_dims))
        new_granularity: Any = PerChannel(tuple(d + 1 if d >= at else d for d in dims))
    else:
        tile = list(_tile_of(self.raw_data.shape, granularity))
        tile.insert(at, 1)
        new_granularity = PerTile(tuple(tile))
    context = QuantizationContext(AffineQuantizationFunction, params.with_changes(granularity=new_granularity))
    return QuantizedTensor(self.raw_data.unsqueeze(at), context)


def _tile_of(shape: Any, granularity: Any) -> Any:
    tile = granularity.tile_size(torch.Size(shape))
    return tuple(shape) if isinstance(tile, str) else tuple(tile)


dispatcher.register("unsqueeze", _is_tiled_affine_unsqueeze, tiled_unsqueeze)

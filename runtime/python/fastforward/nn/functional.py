"""Quantized functional operators: one per entry of ffq's default operator table.

Autoquant rewrites ``torch.nn.functional.linear(x, w, b)`` into
``fastforward.nn.functional.linear(x, w, b, output_quantizer=self.quantizer_linear)``, and a
Python operator such as ``a + b`` into ``fastforward.nn.functional.add(a, b, ...)``.

Every function here takes the parameters of its operator-table schema (same names, order
and defaults), plus a keyword-only ``output_quantizer``. It

1. dequantizes arguments that are ``QuantizedTensor``s,
2. computes the float operation exactly as the original code did (the table's ``fallback``
   callable, or the Python operator), so that with stub quantizers the results are bitwise
   identical to the float model, and
3. returns ``output_quantizer(result)``, or ``result`` when no quantizer is given.

Operators that stand for Python syntax (``add`` for ``+``, ``neg``ative for unary ``-``,
...) evaluate that syntax with the ``operator`` module, because autoquant also rewrites
operators whose operands are plain Python values (``n - 1`` on ints, ``y + y`` on lists) and
because ``2 ** t`` or ``2.0 + t`` are not valid calls of ``torch.pow`` or ``torch.add``.
For tensor operands, ``operator.add(a, b)`` is ``a + b``, which computes what ``torch.add``
computes. Only when a torch-only argument is given (``alpha`` other than the integer 1) is
the torch function called.
"""

import operator

import torch
import torch.nn.functional as F

from fastforward.quantized_tensor import dequantize as _dq

# fmt: off
__all__ = [
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "embedding",
    "softmax", "relu", "sigmoid", "silu", "gelu", "dropout", "layer_norm", "rms_norm",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool2d", "pad", "interpolate", "unfold",
    "matmul", "mm", "bmm",
    "add", "sub", "mul", "div", "floor_divide", "remainder", "pow",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
    "bitwise_not", "negative", "positive",
    "sum", "cumsum", "exp", "sin", "cos", "permute", "cat", "index_add",
    "ones_like", "zeros_like", "empty_like", "full_like",
]
# fmt: on


def _quantize_output(result, output_quantizer):
    """Apply the output quantizer, if any, to an operator's float result."""
    if output_quantizer is None:
        return result
    return output_quantizer(result)


def _is_default_alpha(alpha):
    # `a + b` has no alpha; torch.add's default is the int 1. A float 1.0 is passed on to
    # torch, which rejects it for integer tensors just as the original call would have.
    return type(alpha) is int and alpha == 1


# --- linear layers and convolutions -------------------------------------------------------


def linear(input, weight, bias=None, *, output_quantizer=None):
    result = F.linear(_dq(input), _dq(weight), _dq(bias))
    return _quantize_output(result, output_quantizer)


def conv1d(
    input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, output_quantizer=None
):
    result = F.conv1d(_dq(input), _dq(weight), _dq(bias), stride, padding, dilation, groups)
    return _quantize_output(result, output_quantizer)


def conv2d(
    input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, output_quantizer=None
):
    result = F.conv2d(_dq(input), _dq(weight), _dq(bias), stride, padding, dilation, groups)
    return _quantize_output(result, output_quantizer)


def conv3d(
    input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, output_quantizer=None
):
    result = F.conv3d(_dq(input), _dq(weight), _dq(bias), stride, padding, dilation, groups)
    return _quantize_output(result, output_quantizer)


def conv_transpose1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    *,
    output_quantizer=None,
):
    result = F.conv_transpose1d(
        _dq(input), _dq(weight), _dq(bias), stride, padding, output_padding, groups, dilation
    )
    return _quantize_output(result, output_quantizer)


def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    *,
    output_quantizer=None,
):
    result = F.conv_transpose2d(
        _dq(input), _dq(weight), _dq(bias), stride, padding, output_padding, groups, dilation
    )
    return _quantize_output(result, output_quantizer)


def conv_transpose3d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    *,
    output_quantizer=None,
):
    result = F.conv_transpose3d(
        _dq(input), _dq(weight), _dq(bias), stride, padding, output_padding, groups, dilation
    )
    return _quantize_output(result, output_quantizer)


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
    *,
    output_quantizer=None,
):
    result = F.embedding(
        input, _dq(weight), padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse
    )
    return _quantize_output(result, output_quantizer)


# --- activations and normalisation ----------------------------------------------------------


def softmax(input, dim, dtype=None, *, output_quantizer=None):
    return _quantize_output(F.softmax(_dq(input), dim, dtype=dtype), output_quantizer)


def relu(input, *, output_quantizer=None):
    return _quantize_output(F.relu(_dq(input)), output_quantizer)


def sigmoid(input, *, output_quantizer=None):
    # torch.sigmoid is what F.sigmoid calls, minus the deprecation warning of torch 1.x.
    return _quantize_output(torch.sigmoid(_dq(input)), output_quantizer)


def silu(input, *, output_quantizer=None):
    return _quantize_output(F.silu(_dq(input)), output_quantizer)


def gelu(input, approximate="none", *, output_quantizer=None):
    return _quantize_output(F.gelu(_dq(input), approximate=approximate), output_quantizer)


def dropout(input, p=0.5, training=True, inplace=False, *, output_quantizer=None):
    return _quantize_output(F.dropout(_dq(input), p, training, inplace), output_quantizer)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, *, output_quantizer=None):
    result = F.layer_norm(_dq(input), normalized_shape, _dq(weight), _dq(bias), eps)
    return _quantize_output(result, output_quantizer)


def rms_norm(input, normalized_shape, weight=None, eps=None, *, output_quantizer=None):
    input, weight = _dq(input), _dq(weight)
    if hasattr(F, "rms_norm"):  # torch >= 2.4
        result = F.rms_norm(input, normalized_shape, weight, eps)
    else:
        result = _rms_norm_reference(input, normalized_shape, weight, eps)
    return _quantize_output(result, output_quantizer)


def _rms_norm_reference(input, normalized_shape, weight, eps):
    """RMS normalisation for torch releases without F.rms_norm (same math as ATen's).

    y = x * rsqrt(mean(x**2 over the normalized dims) + eps) [* weight], computed in float32
    for half-precision inputs; eps defaults to the machine epsilon of the input dtype.
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = tuple(range(-len(normalized_shape), 0))
    upcast = input.dtype in (torch.float16, torch.bfloat16)
    x = input.float() if upcast else input
    if eps is None:
        eps = torch.finfo(x.dtype).eps
    result = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    if upcast:
        result = result.to(input.dtype)
    if weight is not None:
        result = result * weight
    return result


# --- pooling, padding, resampling -----------------------------------------------------------


def avg_pool1d(
    input,
    kernel_size,
    stride,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    *,
    output_quantizer=None,
):
    result = F.avg_pool1d(_dq(input), kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _quantize_output(result, output_quantizer)


def avg_pool2d(
    input,
    kernel_size,
    stride,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    *,
    output_quantizer=None,
):
    result = F.avg_pool2d(_dq(input), kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _quantize_output(result, output_quantizer)


def avg_pool3d(
    input,
    kernel_size,
    stride,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    *,
    output_quantizer=None,
):
    result = F.avg_pool3d(_dq(input), kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _quantize_output(result, output_quantizer)


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    *,
    output_quantizer=None,
):
    result = F.max_pool2d(_dq(input), kernel_size, stride, padding, dilation, ceil_mode)
    return _quantize_output(result, output_quantizer)


def pad(input, pad, mode="constant", value=None, *, output_quantizer=None):
    return _quantize_output(F.pad(_dq(input), pad, mode, value), output_quantizer)


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
    *,
    output_quantizer=None,
):
    result = F.interpolate(
        _dq(input), size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
    )
    return _quantize_output(result, output_quantizer)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1, *, output_quantizer=None):
    result = F.unfold(_dq(input), kernel_size, dilation, padding, stride)
    return _quantize_output(result, output_quantizer)


# --- matrix products --------------------------------------------------------------------------


def matmul(input, other, *, output_quantizer=None):
    """``input @ other`` (also torch.matmul)."""
    return _quantize_output(operator.matmul(_dq(input), _dq(other)), output_quantizer)


def mm(input, mat2, *, output_quantizer=None):
    return _quantize_output(torch.mm(_dq(input), _dq(mat2)), output_quantizer)


def bmm(input, mat2, *, output_quantizer=None):
    return _quantize_output(torch.bmm(_dq(input), _dq(mat2)), output_quantizer)


# --- arithmetic: torch functions that also stand for Python operators -------------------------


def add(input, other, alpha=1, *, output_quantizer=None):
    """``input + other`` (also torch.add; with ``alpha``, torch.add(input, other, alpha=alpha))."""
    input, other = _dq(input), _dq(other)
    if _is_default_alpha(alpha):
        result = operator.add(input, other)
    else:
        result = torch.add(input, other, alpha=alpha)
    return _quantize_output(result, output_quantizer)


def sub(input, other, alpha=1, *, output_quantizer=None):
    """``input - other`` (also torch.sub; with ``alpha``, torch.sub(input, other, alpha=alpha))."""
    input, other = _dq(input), _dq(other)
    if _is_default_alpha(alpha):
        result = operator.sub(input, other)
    else:
        result = torch.sub(input, other, alpha=alpha)
    return _quantize_output(result, output_quantizer)


def mul(input, other, *, output_quantizer=None):
    """``input * other`` (also torch.mul)."""
    return _quantize_output(operator.mul(_dq(input), _dq(other)), output_quantizer)


def div(input, other, *, output_quantizer=None):
    """``input / other`` (also torch.div): true division."""
    return _quantize_output(operator.truediv(_dq(input), _dq(other)), output_quantizer)


def floor_divide(input, other, *, output_quantizer=None):
    """``input // other`` (also torch.floor_divide)."""
    return _quantize_output(operator.floordiv(_dq(input), _dq(other)), output_quantizer)


def remainder(input, other, *, output_quantizer=None):
    """``input % other`` (also torch.remainder)."""
    return _quantize_output(operator.mod(_dq(input), _dq(other)), output_quantizer)


def pow(input, exponent, *, output_quantizer=None):
    """``input ** exponent`` (also torch.pow)."""
    return _quantize_output(operator.pow(_dq(input), _dq(exponent)), output_quantizer)


def bitwise_and(input, other, *, output_quantizer=None):
    """``input & other`` (also torch.bitwise_and)."""
    return _quantize_output(operator.and_(_dq(input), _dq(other)), output_quantizer)


def bitwise_or(input, other, *, output_quantizer=None):
    """``input | other`` (also torch.bitwise_or)."""
    return _quantize_output(operator.or_(_dq(input), _dq(other)), output_quantizer)


def bitwise_xor(input, other, *, output_quantizer=None):
    """``input ^ other`` (also torch.bitwise_xor)."""
    return _quantize_output(operator.xor(_dq(input), _dq(other)), output_quantizer)


def bitwise_left_shift(input, other, *, output_quantizer=None):
    """``input << other`` (also torch.bitwise_left_shift)."""
    return _quantize_output(operator.lshift(_dq(input), _dq(other)), output_quantizer)


def bitwise_right_shift(input, other, *, output_quantizer=None):
    """``input >> other`` (also torch.bitwise_right_shift)."""
    return _quantize_output(operator.rshift(_dq(input), _dq(other)), output_quantizer)


def bitwise_not(input, *, output_quantizer=None):
    """``~input`` (also torch.bitwise_not)."""
    return _quantize_output(operator.invert(_dq(input)), output_quantizer)


def negative(input, *, output_quantizer=None):
    """``-input`` (also torch.negative)."""
    return _quantize_output(operator.neg(_dq(input)), output_quantizer)


def positive(input, *, output_quantizer=None):
    """``+input`` (also torch.positive)."""
    return _quantize_output(operator.pos(_dq(input)), output_quantizer)


# --- reductions, elementwise math, shape ops ---------------------------------------------------


def sum(input, dim=None, *, output_quantizer=None):
    input = _dq(input)
    # torch 1.13 has no torch.sum(input, dim=None); the full reduction is torch.sum(input).
    result = torch.sum(input) if dim is None else torch.sum(input, dim)
    return _quantize_output(result, output_quantizer)


def cumsum(input, dim, *, output_quantizer=None):
    return _quantize_output(torch.cumsum(_dq(input), dim), output_quantizer)


def exp(input, *, output_quantizer=None):
    return _quantize_output(torch.exp(_dq(input)), output_quantizer)


def sin(input, *, output_quantizer=None):
    return _quantize_output(torch.sin(_dq(input)), output_quantizer)


def cos(input, *, output_quantizer=None):
    return _quantize_output(torch.cos(_dq(input)), output_quantizer)


def permute(input, dims, *, output_quantizer=None):
    return _quantize_output(torch.permute(_dq(input), dims), output_quantizer)


def cat(tensors, dim=0, *, output_quantizer=None):
    result = torch.cat([_dq(tensor) for tensor in tensors], dim)
    return _quantize_output(result, output_quantizer)


def index_add(input, dim, index, source, alpha=1, *, output_quantizer=None):
    result = torch.index_add(_dq(input), dim, index, _dq(source), alpha=alpha)
    return _quantize_output(result, output_quantizer)


# --- tensor factories shaped like their input ---------------------------------------------------


def ones_like(
    input,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    memory_format=None,
    *,
    output_quantizer=None,
):
    result = torch.ones_like(
        _dq(input), **_like_kwargs(dtype, layout, device, requires_grad, memory_format)
    )
    return _quantize_output(result, output_quantizer)


def zeros_like(
    input,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    memory_format=None,
    *,
    output_quantizer=None,
):
    result = torch.zeros_like(
        _dq(input), **_like_kwargs(dtype, layout, device, requires_grad, memory_format)
    )
    return _quantize_output(result, output_quantizer)


def empty_like(
    input,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    memory_format=None,
    *,
    output_quantizer=None,
):
    result = torch.empty_like(
        _dq(input), **_like_kwargs(dtype, layout, device, requires_grad, memory_format)
    )
    return _quantize_output(result, output_quantizer)


def full_like(
    input,
    fill_value,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    memory_format=None,
    *,
    output_quantizer=None,
):
    result = torch.full_like(
        _dq(input), fill_value, **_like_kwargs(dtype, layout, device, requires_grad, memory_format)
    )
    return _quantize_output(result, output_quantizer)


def _like_kwargs(dtype, layout, device, requires_grad, memory_format):
    """Keyword arguments for torch.*_like: only those given, so torch applies its own defaults."""
    kwargs = {"requires_grad": requires_grad}
    for name, value in (
        ("dtype", dtype),
        ("layout", layout),
        ("device", device),
        ("memory_format", memory_format),
    ):
        if value is not None:
            kwargs[name] = value
    return kwargs

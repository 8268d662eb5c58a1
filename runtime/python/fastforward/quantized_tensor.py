"""QuantizedTensor: integer-valued data plus the affine parameters that give it meaning.

A QuantizedTensor holds *raw* data (integer values, stored in any dtype) together with a
``scale`` and an optional ``offset``. Its real value is ``(raw + offset) * scale``, the
convention of the custom-quantizer tutorial (``quantize`` computes
``round(x / scale - offset)``).

It is a ``torch.Tensor`` subclass, so ``isinstance(q, torch.Tensor)`` holds and it can be
passed wherever a tensor is expected. Any torch operation that is applied to it directly
(anything other than the fastforward functional ops, which dequantize explicitly) sees the
dequantized float tensor: correct, if not fast. Later work adds integer kernels.
"""

import torch

__all__ = ["QuantizedTensor", "dequantize"]


class QuantizedTensor(torch.Tensor):
    """Raw quantized data with ``scale`` and ``offset``; ``dequantize()`` gives the float tensor.

    Args:
        raw_data: the integer values (any dtype; float dtypes keep autograd working).
        scale: float or tensor broadcastable against ``raw_data``.
        offset: float, tensor or None (None means 0).
    """

    @staticmethod
    def __new__(cls, raw_data, scale, offset=None):
        if not isinstance(raw_data, torch.Tensor):
            raise TypeError(
                "QuantizedTensor needs a torch.Tensor of raw data, got %r" % type(raw_data)
            )
        if isinstance(raw_data, QuantizedTensor):
            raw_data = raw_data.raw_data()
        # as_subclass shares storage and stays attached to the autograd graph.
        self = raw_data.as_subclass(cls)
        self.scale = scale
        self.offset = offset
        return self

    def __init__(self, raw_data, scale, offset=None):
        # Everything happens in __new__; torch.Tensor.__init__ must not see the arguments.
        pass

    def raw_data(self):
        """The raw (integer-valued) data as a plain torch.Tensor sharing this storage."""
        with torch._C.DisableTorchFunction():
            return self.as_subclass(torch.Tensor)

    def dequantize(self):
        """The float tensor this quantized tensor represents: ``(raw + offset) * scale``."""
        data = self.raw_data()
        if not data.is_floating_point():
            data = data.to(torch.get_default_dtype())
        if self.offset is not None:
            data = data + self.offset
        return data * self.scale

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Fallback for every torch operation: compute it on the dequantized values.
        args = _dequantize_nested(args)
        kwargs = _dequantize_nested(kwargs or {})
        return func(*args, **kwargs)

    def __repr__(self, **kwargs):
        return "QuantizedTensor(raw_data=%r, scale=%r, offset=%r)" % (
            self.raw_data(),
            self.scale,
            self.offset,
        )


def dequantize(value):
    """``value.dequantize()`` for a QuantizedTensor; any other value is returned unchanged."""
    if isinstance(value, QuantizedTensor):
        return value.dequantize()
    return value


def _dequantize_nested(value):
    """Dequantize QuantizedTensors inside (nested) lists, tuples and dicts."""
    if isinstance(value, QuantizedTensor):
        return value.dequantize()
    if isinstance(value, (list, tuple)):
        items = [_dequantize_nested(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {key: _dequantize_nested(item) for key, item in value.items()}
    return value

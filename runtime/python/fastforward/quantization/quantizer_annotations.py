"""Tag quantizers with the operators around them, found by running the model once.

After ``annotate_operator_metadata(model, *inputs)`` a quantizer whose output an operator
consumed carries ``before/<op>`` and one that received an operator's result carries
``after/<op>`` (``<op>`` is the torch function's name: ``linear``, ``conv2d``, ``add`` ...),
so queries such as ``**/[quantizer:after/softmax]`` select them. Stubs are annotated too
(their tags pass to the quantizer that replaces them)."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import torch
from torch.overrides import TorchFunctionMode

from fastforward.nn.quantized_module import named_quantizers
from fastforward.nn.quantizer import Quantizer, QuantizerMetadata, Tag
from fastforward.overrides import disable_quantization
from fastforward.quantized_tensor import _no_dispatch, _op_name

__all__ = ["annotate_operator_metadata"]


def _tensors(value: Any) -> List[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


class _Trace(TorchFunctionMode):
    """Records which tensors came out of which quantizer and which operator, and tags."""

    def __init__(self) -> None:
        super().__init__()
        self.from_quantizer: Dict[int, List[Quantizer]] = {}
        self.from_op: Dict[int, str] = {}
        self.keep: List[torch.Tensor] = []  # keeps recorded tensors alive, so ids stay unique

    def quantizer_called(self, quantizer: Quantizer, inputs: Any, output: Any) -> None:
        for t in _tensors(inputs):
            op = self.from_op.get(id(t))
            if op is not None:
                _tag(quantizer, "after/" + op)
        for t in _tensors(output):
            self.from_quantizer.setdefault(id(t), []).append(quantizer)
            self.keep.append(t)

    def __torch_function__(self, func: Callable, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        name = _op_name(func)
        if not name or _no_dispatch(name) or name.startswith("_"):
            return result
        for t in _tensors((args, kwargs)):
            for quantizer in self.from_quantizer.get(id(t), ()):
                _tag(quantizer, "before/" + name)
        for t in _tensors(result):
            self.from_op[id(t)] = name
            self.keep.append(t)
        return result


def _tag(quantizer: Quantizer, tag: str) -> None:
    if quantizer.quant_metadata is None:
        quantizer.quant_metadata = QuantizerMetadata()
    quantizer.quant_metadata.add_tag(Tag(tag))


def annotate_operator_metadata(model: torch.nn.Module, *args: Any, **kwargs: Any) -> Optional[Any]:
    """Run ``model(*args, **kwargs)`` once with quantization disabled and tag every quantizer
    (stubs included) with ``before/<op>`` / ``after/<op>`` for the operators that consumed its
    output or produced its input. Returns the model's output."""
    trace = _Trace()
    handles = []
    for _, quantizer in named_quantizers(model, skip_stubs=False):
        # A forward hook (not an override): stubs skip the override chain.
        def record(q: Quantizer, q_args: Any, output: Any) -> None:
            trace.quantizer_called(q, q_args, output)

        handles.append(quantizer.register_forward_hook(record))
    try:
        with disable_quantization(model), torch.no_grad(), trace:
            return model(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()

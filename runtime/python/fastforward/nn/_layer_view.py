"""Quantized containers: quantizer slots are not entries of the container.

A quantized subclass of nn.Sequential / nn.ModuleList / nn.ModuleDict keeps its quantizers
in ``_modules`` like any module does, so state_dict, .to(), named_modules(), parameters()
and quantize_model see them. torch's container methods, though, treat every ``_modules``
entry as a layer: ``for m in self`` would run the quantizers, ``len(self)`` and ``self[-1]``
would count them, ``self.items()`` would list them. So each container method the class has
(the torch ones and any override of them in the float class) runs on a view of
``_modules`` without the quantizer slots: the slots are taken out for the duration of the
call and put back, after the layers, when it returns.
"""

import functools
from typing import Any

import torch

_CONTAINER_METHODS = (
    "__iter__", "__len__", "__getitem__", "__setitem__", "__delitem__", "__contains__", "__reversed__",
    "__add__", "__iadd__", "__mul__", "__rmul__", "__imul__",
    "append", "extend", "insert", "pop", "keys", "items", "values", "update", "clear",
)


def _slot_names(module: torch.nn.Module) -> set:
    names = set(module.__dict__.get("_quantizer_metadata", ()))
    names.update(module.__dict__.get("_ff_empty_slots", ()))
    return names


def _layer_view(method: Any, name: str) -> Any:
    @functools.wraps(method)
    def on_layers(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        full = self.__dict__["_modules"]
        slots = _slot_names(self)
        if not slots or slots.isdisjoint(full) or self.__dict__.get("_ff_layer_view"):
            return method(self, *args, **kwargs)
        layers = type(full)((k, v) for k, v in full.items() if k not in slots)
        self.__dict__["_modules"] = layers
        self.__dict__["_ff_layer_view"] = True
        try:
            result = method(self, *args, **kwargs)
            if name in ("__iter__", "__reversed__"):
                result = iter(list(result))  # iterate the layers as they are now
            return result
        finally:
            merged = type(full)(self.__dict__["_modules"])
            for k, v in full.items():
                if k in slots:
                    merged[k] = v
            self.__dict__["_modules"] = merged
            del self.__dict__["_ff_layer_view"]

    on_layers._ff_layer_view = True  # type: ignore[attr-defined]
    return on_layers


def install_layer_view(cls: type) -> None:
    """Wrap the container methods of ``cls`` (a QuantizedModule subclass) when it is a
    Sequential / ModuleList / ModuleDict."""
    containers = (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)
    if not issubclass(cls, containers):
        return
    for name in _CONTAINER_METHODS:
        method = getattr(cls, name, None)
        if method is None or name in vars(cls) or getattr(method, "_ff_layer_view", False):
            continue
        setattr(cls, name, _layer_view(method, name))

"""Layer-by-layer optimisation: run an algorithm (GPTQ, ...) on each target layer of a model
in the order the model executes them, each time on the inputs that layer receives from the
model as optimised so far.

``layerwise_optimize(model, data, gptq)`` finds the layers registered for ``gptq``
(``QuantizedLinear`` and ``QuantizedConv2d``), records their execution order on ``data[0]``
and, layer after layer, collects that layer's inputs over every batch of ``data`` and calls
``gptq(layer, inputs, **kwargs)``. ``register(algorithm, target, flows)`` adds targets for
an algorithm; ``AlgorithmSpec(fn, selector, flows)`` passes them explicitly.

Flows name what the algorithm gets after the layer, in order: ``"input"`` (the layer's
inputs in the partly optimised model) and ``"float_input"`` (its inputs with every quantizer
of the model switched off).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from fastforward.flags import strict_quantization
from fastforward.mpath import Selector, search
from fastforward.overrides import disable_quantization
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["ActivationBundle", "Algorithm", "AlgorithmSpec", "Selector", "layerwise_optimize", "register",
           "resolve", "trace"]

Algorithm = Callable[..., Any]
FLOWS = ("input", "float_input")


@dataclasses.dataclass(frozen=True)
class AlgorithmSpec:
    """``fn`` runs on every module ``selector`` picks (a module class, a tuple of classes, an
    mpath query or ``Selector``), given the ``flows`` after the module."""

    fn: Algorithm
    selector: Any
    flows: Tuple[str, ...] = ("input",)


@dataclasses.dataclass
class ActivationBundle:
    """What one flow collected for one layer: one entry per batch of data."""

    flow: str
    values: List[torch.Tensor]


_registry: Dict[Any, List[AlgorithmSpec]] = {}


def register(algorithm: Algorithm, target: Any, flows: Sequence[str] = ("input",)) -> AlgorithmSpec:
    """Make ``target`` (module class(es) or mpath query) a default region of ``algorithm``."""
    unknown = [f for f in flows if f not in FLOWS]
    if unknown:
        raise ValueError("unknown flow(s) %s (known: %s)" % (", ".join(unknown), ", ".join(FLOWS)))
    spec = AlgorithmSpec(algorithm, target, tuple(flows))
    _registry.setdefault(algorithm, []).append(spec)
    return spec


def resolve(algorithm: Union[Algorithm, AlgorithmSpec, Sequence[AlgorithmSpec]],
            targets: Any = None) -> List[AlgorithmSpec]:
    """The specs to run: explicit ``AlgorithmSpec``s, ``algorithm`` on ``targets``, or the
    targets registered for ``algorithm``."""
    if isinstance(algorithm, AlgorithmSpec):
        algorithm = [algorithm]
    if isinstance(algorithm, (list, tuple)):
        if targets is not None:
            raise TypeError("layerwise_optimize: targets= goes with an algorithm, not with AlgorithmSpecs")
        return list(algorithm)
    if targets is not None:
        return [AlgorithmSpec(algorithm, targets)]
    specs = _registry.get(algorithm)
    if not specs:
        raise ValueError("no targets registered for %s; pass targets=... or register(algorithm, target)"
                         % getattr(algorithm, "__name__", algorithm))
    return list(specs)


def _call(model: torch.nn.Module, batch: Any) -> Any:
    if isinstance(batch, dict):
        return model(**batch)
    if isinstance(batch, (tuple, list)):
        return model(*batch)
    return model(batch)


def _selected(model: torch.nn.Module, selector: Any) -> List[torch.nn.Module]:
    if isinstance(selector, type) or (isinstance(selector, tuple) and all(isinstance(s, type) for s in selector)):
        return [m for m in model.modules() if isinstance(m, selector) and m is not model]
    return list(search(selector, model).modules())


class _Stop(Exception):
    pass


def trace(model: torch.nn.Module, batch: Any, modules: Optional[Sequence[torch.nn.Module]] = None
          ) -> List[torch.nn.Module]:
    """``modules`` (default: all submodules) in the order ``model`` first calls them on
    ``batch`` (run with quantization off); modules it does not call are left out."""
    candidates = list(model.modules())[1:] if modules is None else list(modules)
    order: List[torch.nn.Module] = []
    seen = set()

    def hook(module: torch.nn.Module, args: Any) -> None:
        if id(module) not in seen:
            seen.add(id(module))
            order.append(module)

    handles = [m.register_forward_pre_hook(hook) for m in candidates]
    try:
        with torch.no_grad(), disable_quantization(model):  # only the order matters here
            _call(model, batch)
    finally:
        for h in handles:
            h.remove()
    return order


def _collect(model: torch.nn.Module, layer: torch.nn.Module, batches: Sequence[Any], flow: str) -> ActivationBundle:
    values: List[torch.Tensor] = []

    def grab(module: torch.nn.Module, args: Any) -> None:
        x = args[0]
        values.append((x.dequantize() if isinstance(x, QuantizedTensor) else x).detach())
        raise _Stop

    handle = layer.register_forward_pre_hook(grab)
    try:
        with torch.no_grad(), strict_quantization(False):
            for batch in batches:
                try:
                    if flow == "float_input":
                        with disable_quantization(model):
                            _call(model, batch)
                    else:
                        _call(model, batch)
                except _Stop:
                    pass
    finally:
        handle.remove()
    return ActivationBundle(flow, values)


def layerwise_optimize(model: torch.nn.Module, data: Any, algorithm: Union[Algorithm, Sequence[AlgorithmSpec]], *,
                       targets: Any = None, graph: Optional[Sequence[torch.nn.Module]] = None,
                       offloading: Any = None, **kwargs: Any) -> None:
    """Run ``algorithm`` on each target layer of ``model`` in execution order (module doc).
    ``data`` is one batch or a list of batches (a batch: a tensor, a tuple of positional
    arguments or a dict of keyword arguments). ``graph`` may give the layer order
    explicitly; ``offloading`` is accepted and ignored (everything stays where it is)."""
    del offloading
    batches = list(data) if isinstance(data, list) else [data]
    if not batches:
        raise ValueError("layerwise_optimize: no data")
    for spec in resolve(algorithm, targets):
        layers = _selected(model, spec.selector)
        ordered = list(graph) if graph is not None else trace(model, batches[0], layers)
        for layer in [m for m in ordered if any(m is l for l in layers)]:
            bundles = [_collect(model, layer, batches, flow) for flow in spec.flows]
            spec.fn(layer, *[b.values for b in bundles], **kwargs)


def _register_builtin() -> None:
    from fastforward.nn.quantized_layers import QuantizedConv2d, QuantizedLinear
    from fastforward.quantization._gptq import gptq

    register(gptq, (QuantizedLinear, QuantizedConv2d))


_register_builtin()

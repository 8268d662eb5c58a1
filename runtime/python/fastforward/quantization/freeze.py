"""Freezing: baking quantized weights into a model.

* ``freeze_parameters(model)`` (FastForward's form, a context manager): during one forward
  pass inside the block, every quantizer that changes its input writes the
  quantized-dequantized value into the input when that is an ``nn.Parameter`` and (by
  default) steps aside for a ``QuantizerStub`` with the same metadata. The weights stay float
  tensors, now exactly on the quantization grid.
* ``freeze(model)`` (Quanto's form): every weight quantizer's parameter is replaced by its
  integer form (``int8`` for up to 8 bits, ``int16`` up to 16), stored in a
  ``FrozenWeightQuantizer`` together with scale and offset; the float weight is dropped, so
  ``state_dict`` and memory shrink about four times for int8, and the weight is no longer
  re-quantized on every call.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from fastforward.flags import get_export_mode, strict_quantization
from fastforward.nn.linear_quantizer import AbstractAffineQuantizer
from fastforward.nn.quantized_module import QuantizedModule
from fastforward.nn.quantizer import Quantizer, QuantizerStub
from fastforward.quantization.affine import AffineQuantizationFunction, StaticAffineQuantParams
from fastforward.quantization.function import QuantizationContext
from fastforward.quantization.granularity import Granularity
from fastforward.quantized_tensor import QuantizedTensor

__all__ = [
    "ConventionDiscovery",
    "FrozenWeightQuantizer",
    "find_weight_quantizers",
    "freeze",
    "freeze_parameters",
    "fuse_qdq_weights",
    "stub_weight_quantizers",
]


def _parent_slots(model: torch.nn.Module) -> Dict[int, List[Tuple[torch.nn.Module, str]]]:
    slots: Dict[int, List[Tuple[torch.nn.Module, str]]] = {}
    for module in model.modules():
        for name, child in module._modules.items():
            if isinstance(child, Quantizer):
                slots.setdefault(id(child), []).append((module, name))
    return slots


@contextlib.contextmanager
def freeze_parameters(modules: Any, remove_quantizers: bool = True) -> Iterator[None]:
    """Run one forward pass inside the block to bake quantized parameters (see module doc).
    Strict quantization is off inside."""
    roots = [modules] if isinstance(modules, torch.nn.Module) else list(modules)
    handles = []
    for root in roots:
        slots = _parent_slots(root)
        for quantizer in list(root.modules()):
            if not isinstance(quantizer, Quantizer) or quantizer.is_stub():
                continue
            handles.append(quantizer.register_override(_FreezeOverride(slots.get(id(quantizer), []),
                                                                       remove_quantizers)))
    try:
        with strict_quantization(False):
            yield
    finally:
        for handle in handles:
            handle.remove()


class _FreezeOverride:
    def __init__(self, slots: Sequence[Tuple[torch.nn.Module, str]], remove: bool) -> None:
        self.slots = list(slots)
        self.remove = remove
        self.done = False

    def __call__(self, quantizer: Quantizer, callback: Callable[..., Any], args: Sequence[Any],
                 kwargs: Dict[str, Any]) -> Any:
        data = args[0] if args else kwargs["data"]
        if self.done:
            return data
        result = callback(*args, **kwargs)
        if result is data:  # disabled quantizer: leave it alone
            return result
        value = result.dequantize() if isinstance(result, QuantizedTensor) else result
        if isinstance(data, torch.nn.Parameter):
            with torch.no_grad():
                data.copy_(value.detach().to(data.dtype))
        if self.remove:
            for parent, name in self.slots:
                if parent._modules.get(name) is quantizer:
                    setattr(parent, name, QuantizerStub(_metadata=quantizer.quant_metadata))
            self.done = True
        # The float input goes on (a parameter now holding its quantized values): what the
        # model computes once its quantizers are stubs. Handing on the quantized value made
        # the freezing pass quantize every activation that the frozen model no longer does.
        return data


def _int_dtype(num_bits: float) -> torch.dtype:
    return torch.int8 if num_bits <= 8 else torch.int16


def _version(t: torch.Tensor) -> int:
    """``t``'s version counter; -1 for an inference tensor, which has none (and cannot be
    changed in place outside inference mode)."""
    return -1 if t.is_inference() else t._version


class FrozenWeightQuantizer(Quantizer):
    """A weight already quantized: integer ``int_weight`` plus ``scale`` (and ``offset``).
    Calling it ignores its input and returns the stored weight as a ``QuantizedTensor``."""

    ignores_input = True

    def __init__(self, int_weight: torch.Tensor, scale: torch.Tensor, offset: Optional[torch.Tensor],
                 num_bits: float, granularity: Granularity, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.num_bits = num_bits
        self.granularity = granularity
        self.float_dtype = dtype
        self.register_buffer("int_weight", int_weight)
        self.register_buffer("scale", scale.detach().clone())
        self.register_buffer("offset", None if offset is None else offset.detach().clone())

    def quantize(self, data: Any) -> torch.Tensor:
        params = StaticAffineQuantParams(scale=self.scale, offset=self.offset, num_bits=self.num_bits,
                                         granularity=self.granularity, dequantize_dtype=self.float_dtype)
        if get_export_mode():  # the stored integers feed an ONNX DequantizeLinear
            from fastforward.export._qdq import dequantize_stored

            return dequantize_stored(self.int_weight, self.int_weight, params)
        return QuantizationContext(AffineQuantizationFunction, params).attach(self._raw())

    def _raw(self) -> torch.Tensor:
        """The integers in ``float_dtype``, made once and kept (not a buffer: never saved).

        The same tensor every call lets caches keyed on the weight's memory and version (the
        integer path's packed weights) hit. Made again when ``int_weight`` is replaced, moved
        or changed in place, or when the kept copy was changed in place. It is always an
        ordinary tensor, also when made under ``torch.inference_mode()`` (an inference tensor
        has no version counter, and cannot be used outside inference mode)."""
        w = self.int_weight
        key = (id(w), w.data_ptr(), _version(w), w.device, self.float_dtype)
        kept = self.__dict__.get("_raw_kept")
        if kept is not None:
            old_key, raw, raw_version = kept
            if old_key == key and raw._version == raw_version:
                return raw
        with torch.inference_mode(False), torch.no_grad():
            raw = w.to(self.float_dtype, copy=True)
        self.__dict__["_raw_kept"] = (key, raw, raw._version)
        return raw

    def is_stub(self) -> bool:
        return False

    def reset_parameters(self) -> None:
        pass

    def extra_repr(self) -> str:
        return "num_bits=%s, granularity=%r, int_weight=%s%s" % (
            self.num_bits, self.granularity, self.int_weight.dtype, tuple(self.int_weight.shape))


def _is_weight_slot(slot: str, quantizer: Quantizer, tag: str = "parameter/weight") -> bool:
    md = quantizer.quant_metadata
    if md is not None:
        return tag in md
    return slot == "weight_quantizer"  # a quantizer put into a plain module without metadata


def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every quantized weight by its stored integer form (Quanto's ``freeze``).

    Applies to each quantizer slot of a quantized module that is tagged ``parameter/weight``,
    holds an affine quantizer with static parameters, and quantizes a known parameter: the
    built-in layers' ``weight_quantizer`` quantizes ``weight``, and a slot of generated code
    quantizes the ``self.<path>`` its calls pass it (``quantization/_tensors.py``). The slot
    then holds a ``FrozenWeightQuantizer`` with the integers, and the float parameter is
    removed (it is None afterwards). A parameter stays, and its quantizers are not frozen, when
    any other quantizer slot (or one without parameters yet) quantizes it, the module's code
    reads it otherwise, or it belongs to a module that is not quantized. Weight
    quantizers whose tensor is not known (a helper's argument, a slice ``self.w[0]``) are
    left as they are: they still quantize on every call. Returns ``model``.
    """
    from fastforward.quantization._tensors import other_reads, quantized_tensor

    candidates = []  # (path, module, slot, quantizer, owner, attr)
    blocked = set()  # (id(owner), attr) of parameters that must stay
    for name, module in model.named_modules():
        if not isinstance(module, QuantizedModule):
            continue
        blocked |= other_reads(module)
        for slot, quantizer in module._modules.items():
            if not isinstance(quantizer, Quantizer):
                continue
            pair = quantized_tensor(module, slot)
            if pair is None:
                continue
            key = (id(pair[0]), pair[1])
            if not isinstance(pair[0], QuantizedModule):
                blocked.add(key)  # a float module's forward reads its own parameters
            # dynamic quantizers have no stored parameters; a quantizer never run has none yet
            if (not _is_weight_slot(slot, quantizer) or not isinstance(quantizer, AbstractAffineQuantizer)
                    or not hasattr(quantizer, "scale") or getattr(quantizer, "has_uninitialized_params", False)):
                blocked.add(key)
                continue
            candidates.append(((name + "." if name else "") + slot, module, slot, quantizer) + pair)
    frozen = []
    for path, module, slot, quantizer, owner, attr in candidates:
        if (id(owner), attr) in blocked:
            continue
        weight = owner._parameters[attr]
        with torch.no_grad(), strict_quantization(False):
            qt = quantizer.quantize(weight)
            params = qt.quant_args()
            raw = qt.raw_data.detach()
        ints = raw.round().to(_int_dtype(quantizer.num_bits))
        frozen.append((path, module, slot, owner, attr, FrozenWeightQuantizer(
            ints, params.scale, params.offset, quantizer.num_bits, quantizer.granularity, weight.dtype)))
    # every quantizer is computed before any weight goes (tied weights have several)
    for path, module, slot, owner, attr, frozen_q in frozen:
        setattr(module, slot, frozen_q)
        frozen_q.__dict__["_ff_path"] = path
        if isinstance(owner._parameters.get(attr), torch.nn.Parameter):
            del owner._parameters[attr]
            owner.register_parameter(attr, None)
    if not frozen:
        raise ValueError(
            "freeze: %s has no weight quantizer with stored parameters (quantize it first, e.g. "
            "fastforward.quantize(model))" % type(model).__name__
        )
    return model


# --- weight fusion helpers --------------------------------------------------------------------


class ConventionDiscovery:
    """Finds (module, weight attribute, quantizer): every quantizer tagged ``tag`` whose
    parameter is known. A slot ``<weight_attr>_quantizer`` quantizes ``module.<weight_attr>``
    (the built-in layers); a slot of generated code quantizes the ``self.<path>`` its calls
    pass it, and ``module`` is then the module holding that parameter (``self.conv.weight``:
    ``conv``). Tagged quantizers of no known parameter are not listed."""

    def __init__(self, weight_attr: str = "weight", *, tag: str = "parameter/weight") -> None:
        self.weight_attr = weight_attr
        self.tag = tag

    def __call__(self, model: torch.nn.Module) -> List[Tuple[torch.nn.Module, str, Quantizer]]:
        from fastforward.quantization._tensors import quantized_tensor

        found = []
        for module in model.modules():
            for slot, child in module._modules.items():
                md = getattr(child, "quant_metadata", None)
                if not isinstance(child, Quantizer) or md is None or self.tag not in md:
                    continue
                if slot == self.weight_attr + "_quantizer":
                    pair = (module, self.weight_attr) if module._parameters.get(self.weight_attr) is not None \
                        else None
                elif slot.endswith("_quantizer") and not slot.startswith("quantizer_"):
                    pair = None  # another attribute's convention slot
                else:
                    pair = quantized_tensor(module, slot)
                if pair is not None and isinstance(pair[0]._parameters.get(pair[1]), torch.nn.Parameter):
                    found.append((pair[0], pair[1], child))
        return found


WeightQuantizerDiscovery = Callable[[torch.nn.Module], List[Tuple[torch.nn.Module, str, Quantizer]]]


def find_weight_quantizers(model: torch.nn.Module, *, discovery: Optional[WeightQuantizerDiscovery] = None
                           ) -> List[Tuple[torch.nn.Module, str, Quantizer]]:
    """(module, weight attribute, quantizer) for every weight quantizer of ``model``."""
    return (discovery or ConventionDiscovery())(model)


def stub_weight_quantizers(model: torch.nn.Module, *, discovery: Optional[WeightQuantizerDiscovery] = None) -> None:
    """Replace every weight quantizer by a stub carrying its metadata."""
    slots = _parent_slots(model)
    for _, _, quantizer in find_weight_quantizers(model, discovery=discovery):
        for parent, name in slots.get(id(quantizer), []):
            if parent._modules.get(name) is quantizer:
                setattr(parent, name, QuantizerStub(_metadata=quantizer.quant_metadata))


def fuse_qdq_weights(model: torch.nn.Module, *, stub_quantizers: bool = False,
                     discovery: Optional[WeightQuantizerDiscovery] = None) -> None:
    """Write each weight's quantize-dequantize value into the float weight (in place);
    with ``stub_quantizers`` the weight quantizers are then replaced by stubs."""
    found = find_weight_quantizers(model, discovery=discovery)
    with torch.no_grad(), strict_quantization(False):
        for module, attr, quantizer in found:
            if quantizer.is_stub():
                continue
            weight = getattr(module, attr)
            result = quantizer(weight)
            value = result.dequantize() if isinstance(result, QuantizedTensor) else result
            weight.copy_(value.to(weight.dtype))
    if stub_quantizers:
        stub_weight_quantizers(model, discovery=discovery)

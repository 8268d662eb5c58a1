"""Quantization functions, affine quantization, granularities and straight-through
estimators; and the workflow on top of them (choosing quantizers, freezing, saving,
Quanto's and TorchQuant's flows), loaded on first use."""

import importlib
from typing import Any

from fastforward.quantization import affine, function, granularity, ste, tiled_tensor
from fastforward.quantization.affine import dynamic, static
from fastforward.quantization.function import create_quantization_function

# name -> submodule defining it. Loaded lazily: these modules import fastforward.nn, which
# itself imports this package.
_LAZY = {
    "QuantizationConfig": "quant_init",
    "QuantizerCollection": "quant_init",
    "find_quantizers": "quant_init",
    "freeze_parameters": "freeze",
    "freeze": "freeze",
    "FrozenWeightQuantizer": "freeze",
    "ConventionDiscovery": "freeze",
    "find_weight_quantizers": "freeze",
    "fuse_qdq_weights": "freeze",
    "stub_weight_quantizers": "freeze",
    "WeightQuantizerDiscovery": "freeze",
    "save_quantization_state": "serialization",
    "load_quantization_state": "serialization",
    "save_quantized_model": "serialization",
    "load_quantized_model": "serialization",
    "quantize": "workflow",
    "calibration": "workflow",
    "QModuleState": "qstate",
    "qmodule_state": "qstate",
    "set_qmodule_state": "qstate",
    "get_qmodule_state": "qstate",
    "strict_quantization_for_module": "strict_quantization",
    "ModuleStrictQuantHandle": "strict_quantization",
    "gptq": "_gptq",
}
_SUBMODULES = ("quant_init", "freeze", "serialization", "workflow", "qstate", "strict_quantization",
               "functional", "random", "quantizer_annotations")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("fastforward.quantization." + _LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module("fastforward.quantization." + name)
    raise AttributeError("module 'fastforward.quantization' has no attribute %r" % name)


__all__ = [
    "affine",
    "create_quantization_function",
    "dynamic",
    "function",
    "granularity",
    "static",
    "ste",
    "tiled_tensor",
] + sorted(_LAZY)

"""fastforward: the Python runtime of ffq.

Quantization core: ``QuantizedTensor`` (raw integers + the function and parameters that
made them), quantization functions (``fastforward.quantization``), quantizers
(``fastforward.nn.LinearQuantizer`` ...), range setting (``estimate_ranges``) and the
dispatcher that routes torch ops on quantized tensors. Code that ffq generates uses
``fastforward.nn.QuantizedModule``, ``fastforward.nn.QuantizerStub`` and
``fastforward.nn.functional.<op>``; ``quantize_model(model)`` swaps in generated classes and
``autoquantize(model, ...)`` runs the ffq compiler on a model's source.
"""

from fastforward import (
    _quantizer_impl,  # noqa: F401  (ff._quantizer_impl, as FastForward has it)
    cache,
    common,
    dataclasses,
    dispatcher,
    exceptions,
    flags,
    forward_override,
    logging_utils,
    nn,
    quantization,
    range_setting,
    type_common,
)
from fastforward import autoquant
from fastforward._autoquantize import autoquantize
from fastforward.flags import (
    export_mode,
    get_export_mode,
    get_strict_quantization,
    set_export_mode,
    set_strict_quantization,
    strict_quantization,
)
from fastforward import mpath, overrides
from fastforward.flags import (
    get_sdpa_torch_fallback_allowed,
    sdpa_torch_fallback_allowed,
    set_sdpa_torch_fallback_allowed,
)
from fastforward.nn.attention import sdpa_upcast
from fastforward.nn.quantized_module import (
    quantize_model,
    quantized_module_map,
    surrogate_quantized_modules,
)
from fastforward.overrides import disable_quantization, enable_quantization
from fastforward.quantization import affine, granularity, random
from fastforward.quantization.quantizer_annotations import annotate_operator_metadata
from fastforward.quantization.freeze import freeze, freeze_parameters

# Quanto's freeze is fastforward.quantization.freeze as well as fastforward.freeze. Importing
# the submodule of that name bound the package attribute to the module (import sets it once,
# when the submodule is first loaded: just above), so ff.quantization.freeze(model) raised
# "'module' object is not callable". The module stays importable by its dotted name.
quantization.freeze = freeze  # type: ignore[attr-defined]
from fastforward.quantization.qstate import (
    QModuleState,
    get_qmodule_state,
    qmodule_state,
    set_qmodule_state,
)
from fastforward.quantization.quant_init import QuantizationConfig, find_quantizers
from fastforward.quantization.serialization import load_quantization_state, save_quantization_state
from fastforward.quantization.strict_quantization import strict_quantization_for_module
from fastforward.quantization.workflow import calibration, quantize
from fastforward.quantization.granularity import PerBlock, PerChannel, PerTensor, PerTile
from fastforward.quantized_tensor import QuantizedTensor
from fastforward.range_setting import estimate_ranges
from fastforward import _integer  # noqa: F401,I001  (registers the integer kernels)
from fastforward import testing  # noqa: I001  (uses _integer's state)
from fastforward import orchestration  # noqa: I001
from fastforward.orchestration import layerwise_optimize

__version__ = "0.1.0"

__all__ = [
    "annotate_operator_metadata",
    "layerwise_optimize",
    "orchestration",
    "cache",
    "dataclasses",
    "logging_utils",
    "random",
    "testing",
    "type_common",
    "QModuleState",
    "get_sdpa_torch_fallback_allowed",
    "sdpa_torch_fallback_allowed",
    "sdpa_upcast",
    "set_sdpa_torch_fallback_allowed",
    "QuantizationConfig",
    "calibration",
    "disable_quantization",
    "enable_quantization",
    "find_quantizers",
    "freeze",
    "freeze_parameters",
    "get_qmodule_state",
    "load_quantization_state",
    "mpath",
    "overrides",
    "qmodule_state",
    "quantize",
    "quantized_module_map",
    "save_quantization_state",
    "set_qmodule_state",
    "strict_quantization_for_module",
    "surrogate_quantized_modules",
    "PerBlock",
    "PerChannel",
    "PerTensor",
    "PerTile",
    "QuantizedTensor",
    "affine",
    "autoquant",
    "autoquantize",
    "common",
    "dispatcher",
    "estimate_ranges",
    "exceptions",
    "export_mode",
    "flags",
    "forward_override",
    "get_export_mode",
    "get_strict_quantization",
    "granularity",
    "nn",
    "quantization",
    "quantize_model",
    "range_setting",
    "set_export_mode",
    "set_strict_quantization",
    "strict_quantization",
]

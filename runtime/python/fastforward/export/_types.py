"""The records of fastforward.export: a request, its QNN options, and what a run produced."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from fastforward.export._onnx import DEFAULT_OPSET

EncodingSchemaHandler = Callable[[Dict[str, Any]], Optional[Dict[str, Any]]]


@dataclasses.dataclass
class ExportArtifacts:
    """What an export produced: every stage's value by stage name (``stage_outputs["onnx"]``
    is the written ONNX file for ffq's pipelines) and what stages evaluated."""

    pipeline_name: str
    stage_outputs: Dict[str, Any]
    eval_results: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def path(self) -> str:
        """The ONNX file written (``stage_outputs["onnx"]``)."""
        return self.stage_outputs["onnx"]

    @property
    def encodings_path(self) -> Optional[str]:
        """The encodings file written, or None (``stage_outputs.get("encodings_file")``)."""
        return self.stage_outputs.get("encodings_file")


@dataclasses.dataclass
class QnnOnnxOptions:
    """Options of the ``("qnn", "onnx")`` and ``("qnn", "onnx_qdq")`` pipelines.

    ``encoding_schema_handler(encodings) -> dict | None`` may change the encodings dictionary
    before it is written (return a new one, or change it in place and return None).
    ``store_weights_as_qdq``: quantized weights are written as their quantized-dequantized
    values (else as the float weights). ``opset_version`` and ``encoding_version`` are ffq's
    additions."""

    input_names: Optional[Sequence[str]] = None
    output_names: Optional[Sequence[str]] = None
    encoding_schema_handler: Optional[EncodingSchemaHandler] = None
    alter_node_names: bool = False
    alter_node_names_prefix: str = "ff"
    onnx_export_options: Optional[Dict[str, Any]] = None
    onnx_save_kwargs: Optional[Dict[str, Any]] = None
    verbose: Optional[bool] = None
    store_weights_as_qdq: bool = True
    opset_version: int = DEFAULT_OPSET
    encoding_version: str = "0.6.1"


SampleInputs = List[Tuple[Any, Optional[Dict[str, Any]]]]


@dataclasses.dataclass
class ExportRequest:
    """What to export and how: ``sample_inputs`` is a list of ``(args, kwargs)`` examples
    (``args`` a tuple or a single tensor; ffq's pipelines trace the first), ``options`` a
    ``QnnOnnxOptions`` or a dict of its fields, ``pipeline_factory`` a zero-argument callable
    returning the ``Pipeline`` to run instead of the registry's."""

    model: torch.nn.Module
    sample_inputs: SampleInputs
    output_dir: str
    model_name: str
    target: str = "qnn"
    format: str = "onnx"
    pipeline_factory: Optional[Callable[[], Any]] = None
    options: Any = dataclasses.field(default_factory=dict)

"""Export a quantized model for a target runtime.

``export(model, data, output_directory, model_name)`` writes, by default
(``target="qnn", format="onnx"``), ``<model_name>.onnx``, the float graph traced with torch's
TorchScript-based ONNX exporter (quantized weights stored as their quantized values), and
``<model_name>.encodings``, the QNN / AIMET encodings of every quantized tensor, keyed by the
graph's tensor names. ``format="onnx_qdq"`` writes one ONNX file with standard
QuantizeLinear / DequantizeLinear nodes instead. Both need the ``onnx`` package; ONNX
Runtime is not needed to export.

Each export is an ``ExportRequest`` run by a pipeline (fastforward.export.pipeline) looked up
by ``(target, format)``; ``export_with_pipeline`` runs a request directly. See docs/export.md.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import torch

from fastforward.exceptions import ExportError
from fastforward.export import pipeline
from fastforward.export._onnx import DEFAULT_OPSET
from fastforward.export._types import EncodingSchemaHandler, ExportArtifacts, ExportRequest, QnnOnnxOptions
from fastforward.export.pipeline import PipelineOrchestrator, PipelineRegistry
from fastforward.flags import export_mode

__all__ = ["ExportArtifacts", "ExportError", "ExportRequest", "QnnOnnxOptions", "SUPPORTED", "export",
           "export_with_pipeline", "pipeline"]

# (target, format) pairs of the default registry; compared case-insensitively.
SUPPORTED = (("qnn", "onnx"), ("qnn", "onnx_qdq"))


def export_with_pipeline(request: ExportRequest, orchestrator: Optional[PipelineOrchestrator] = None
                         ) -> ExportArtifacts:
    """Run ``request`` through its pipeline (``orchestrator``'s, by default one over
    ``build_default_registry()``) with export mode on; returns what the stages produced."""
    orchestrator = orchestrator if orchestrator is not None else PipelineOrchestrator()
    with export_mode(True):
        return orchestrator.run(request)


def export(model: torch.nn.Module, data: Any, output_directory: str, model_name: str,
           target: str = "qnn", format: str = "onnx",
           model_kwargs: Optional[Dict[str, Any]] = None,
           input_names: Optional[Sequence[str]] = None,
           output_names: Optional[Sequence[str]] = None,
           verbose: Optional[bool] = None,
           encoding_schema_handler: Optional[EncodingSchemaHandler] = None,
           alter_node_names: bool = False,
           onnx_export_options: Optional[Dict[str, Any]] = None,
           onnx_save_kwargs: Optional[Dict[str, Any]] = None,
           pipeline_factory: Optional[Any] = None,
           orchestrator: Optional[PipelineOrchestrator] = None,
           registry: Optional[PipelineRegistry] = None,
           *, opset_version: int = DEFAULT_OPSET,
           encoding_version: str = "0.6.1") -> ExportArtifacts:
    """Export ``model`` traced on ``model(*data, **model_kwargs)`` into ``output_directory``.

    ``data`` is a tuple of example positional inputs (a single tensor is accepted too). With
    the default ``("qnn", "onnx")`` the result's ``path`` is ``<model_name>.onnx`` and its
    ``encodings_path`` ``<model_name>.encodings``; with ``("qnn", "onnx_qdq")`` only the ONNX
    file, with QDQ nodes, is written. A quantizer the format cannot express raises
    ``ExportError`` naming its module path, and nothing is written. ``registry`` picks the
    pipeline from another registry, ``orchestrator`` runs it (not both: ``ValueError``);
    ``pipeline_factory`` replaces the lookup altogether.
    """
    if orchestrator is not None and registry is not None:
        raise ValueError("export: pass either orchestrator or registry, not both (an orchestrator "
                         "carries its own registry)")
    if orchestrator is None:
        orchestrator = PipelineOrchestrator(registry)
    options = QnnOnnxOptions(input_names=input_names, output_names=output_names,
                             encoding_schema_handler=encoding_schema_handler, alter_node_names=alter_node_names,
                             onnx_export_options=onnx_export_options, onnx_save_kwargs=onnx_save_kwargs,
                             verbose=verbose, opset_version=opset_version, encoding_version=encoding_version)
    request = ExportRequest(model=model, sample_inputs=[(data, model_kwargs)], output_dir=output_directory,
                            model_name=model_name, target=target, format=format,
                            pipeline_factory=pipeline_factory, options=options)
    if pipeline_factory is None:
        orchestrator.registry.factory(target, format)  # an unknown pair fails before anything runs
    return export_with_pipeline(request, orchestrator)

"""The stages of ffq's two pipelines.

``("qnn", "onnx_qdq")``: ``graph`` (the traced ModelProto with QDQ nodes, rewritten and
checked) -> ``onnx`` (the written file's path).

``("qnn", "onnx")``: ``graph`` (the traced float ModelProto, markers resolved into
``(proto, activation records, parameter records)``, checked) -> ``encodings`` (the
encodings dictionary, after the caller's handler) -> ``onnx`` (path) -> ``encodings_file``
(path of ``<model_name>.encodings``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, List, Tuple

from fastforward.exceptions import ExportError
from fastforward.export import _encodings, _onnx, _qdq
from fastforward.export._types import QnnOnnxOptions
from fastforward.export.pipeline import Pipeline, PipelineContext

SampleInputs = List[Tuple[Any, Any]]


def options_of(request: Any) -> QnnOnnxOptions:
    """The request's options as ``QnnOnnxOptions`` (a dict gives its fields)."""
    options = request.options
    if isinstance(options, QnnOnnxOptions):
        return options
    if options is None:
        return QnnOnnxOptions()
    if isinstance(options, dict):
        fields = {f.name for f in dataclasses.fields(QnnOnnxOptions)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise ValueError("export: unknown option(s) %s for target=%r, format=%r (known: %s)"
                             % (", ".join(unknown), request.target, request.format, ", ".join(sorted(fields))))
        return QnnOnnxOptions(**options)
    raise TypeError("export: options must be a QnnOnnxOptions or a dict, got %s" % type(options).__name__)


def check_model_name(model_name: str) -> None:
    if (not model_name or os.sep in model_name or (os.altsep and os.altsep in model_name)
            or model_name in (".", "..")):
        raise ValueError("export: model_name must be a plain file name, got %r" % (model_name,))


def _traced_example(sample_inputs: SampleInputs) -> Tuple[Any, ...]:
    if not sample_inputs:
        raise ValueError("export: the request has no sample inputs to trace the model with")
    data, kwargs = sample_inputs[0]
    return _onnx.example_args(data, kwargs)


def _trace(request: Any, options: QnnOnnxOptions, sample_inputs: SampleInputs, notes: Any) -> Any:
    check_model_name(request.model_name)
    _onnx.check_opset(options.opset_version)
    return _onnx.trace(request.model, _traced_example(sample_inputs), options.opset_version, options.input_names,
                       options.output_names, options.verbose, dict(options.onnx_export_options or {}), notes)


def _check(proto: Any) -> None:
    _onnx.import_onnx().checker.check_model(proto, full_check=True)


def _write_onnx(request: Any, options: QnnOnnxOptions, proto: Any) -> str:
    onnx = _onnx.import_onnx()
    os.makedirs(request.output_dir, exist_ok=True)
    final = os.path.join(request.output_dir, request.model_name + ".onnx")
    save = dict(options.onnx_save_kwargs or {})
    if save:
        if save.get("save_as_external_data") and not save.get("location"):
            save["location"] = request.model_name + ".onnx.data"
        copy = onnx.ModelProto()
        copy.CopyFrom(proto)  # saving with external data changes the proto it saves
        _onnx.write_atomically(final, lambda tmp: onnx.save_model(copy, tmp, **save))
    else:
        data = proto.SerializeToString()

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                f.write(data)

        _onnx.write_atomically(final, write)
    return final


# --- ("qnn", "onnx_qdq") ----------------------------------------------------------------------


def qdq_graph(inputs: Tuple[Any, ...], sample_inputs: SampleInputs, context: PipelineContext) -> Any:
    """The model traced with QuantizeLinear/DequantizeLinear nodes, checked."""
    options = options_of(context.request)
    if options.encoding_schema_handler is not None or not options.store_weights_as_qdq:
        raise ValueError("export: format 'onnx_qdq' writes no encodings and always stores quantized weights "
                         "as integers: encoding_schema_handler and store_weights_as_qdq=False apply to "
                         "format 'onnx' only")
    proto = _trace(context.request, options, sample_inputs, None)
    _onnx.qdq_cleanup(proto, options.opset_version)
    if options.alter_node_names:
        _encodings.rename_nodes(proto, options.alter_node_names_prefix)
    _check(proto)
    return proto


def qdq_onnx(inputs: Tuple[Any, ...], sample_inputs: SampleInputs, context: PipelineContext) -> str:
    return _write_onnx(context.request, options_of(context.request), inputs[0])


def qnn_onnx_qdq_pipeline() -> Pipeline:
    return (Pipeline("qnn/onnx_qdq")
            .add_stage("graph", qdq_graph)
            .add_stage("onnx", qdq_onnx, ("graph",)))


# --- ("qnn", "onnx") ----------------------------------------------------------------------------


def encoded_graph(inputs: Tuple[Any, ...], sample_inputs: SampleInputs, context: PipelineContext) -> Any:
    """(float ModelProto, activation records, parameter records): the model traced with
    markers, the markers resolved into encoded tensors, node names altered if asked,
    quantizer paths in node metadata, checked."""
    request = context.request
    options = options_of(request)
    if options.encoding_version not in _encodings.ENCODING_VERSIONS:
        raise ValueError("export: encoding_version must be one of %s, got %r"
                         % (", ".join(_encodings.ENCODING_VERSIONS), options.encoding_version))
    names = {id(p): name for name, p in request.model.named_parameters()}
    notes = _qdq.Annotations(names, snap_weights=options.store_weights_as_qdq,
                             blocks=options.encoding_version == "1.0.0")
    proto = _trace(request, options, sample_inputs, notes)
    acts, params = _encodings.resolve_markers(_onnx.import_onnx(), proto, notes.records)
    if options.opset_version > _onnx.torch_max_opset():
        _onnx.declare_opset(proto, options.opset_version)
    if options.alter_node_names:
        _encodings.rename_nodes(proto, options.alter_node_names_prefix)
    _encodings.annotate_nodes(proto, acts, params)
    _check(proto)
    return proto, acts, params


def encodings(inputs: Tuple[Any, ...], sample_inputs: SampleInputs, context: PipelineContext) -> Dict[str, Any]:
    """The encodings dictionary, passed through the caller's ``encoding_schema_handler``."""
    options = options_of(context.request)
    proto, acts, params = inputs[0]
    table = _encodings.encodings_dict(acts, params, options.encoding_version)
    stray = _encodings.check_names(proto, table)
    if stray is not None:
        raise ExportError("internal: encoding for %r, which is no tensor of the graph" % stray)
    handler = options.encoding_schema_handler
    if handler is not None:
        changed = handler(table)
        table = table if changed is None else changed
        if not isinstance(table, dict):
            raise TypeError("export: encoding_schema_handler returned %s, not a dict" % type(table).__name__)
    try:
        json.dumps(table)
    except (TypeError, ValueError) as exc:
        raise TypeError("export: the encodings are not JSON serializable: %s" % exc) from None
    return table


def encoded_onnx(inputs: Tuple[Any, ...], sample_inputs: SampleInputs, context: PipelineContext) -> str:
    return _write_onnx(context.request, options_of(context.request), inputs[0][0])


def encodings_file(inputs: Tuple[Any, ...], sample_inputs: SampleInputs, context: PipelineContext) -> str:
    request = context.request
    final = os.path.join(request.output_dir, request.model_name + ".encodings")
    text = json.dumps(inputs[0], indent=2, sort_keys=False)

    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write(text + "\n")

    _onnx.write_atomically(final, write)
    return final


def qnn_onnx_pipeline() -> Pipeline:
    return (Pipeline("qnn/onnx")
            .add_stage("graph", encoded_graph)
            .add_stage("encodings", encodings, ("graph",))
            .add_stage("onnx", encoded_onnx, ("graph",))
            .add_stage("encodings_file", encodings_file, ("encodings", "onnx")))

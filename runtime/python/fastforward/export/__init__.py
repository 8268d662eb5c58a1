"""Export a quantized model to ONNX with standard QuantizeLinear / DequantizeLinear nodes.

``export(model, data, output_directory, model_name)`` traces ``model(*data)`` with torch's
TorchScript-based ONNX exporter while export mode is on, so every active static affine
quantizer is written as a QDQ pair (a weight as stored integers feeding DequantizeLinear),
and writes ``<output_directory>/<model_name>.onnx`` atomically. Needs the ``onnx`` package
(for the final check and the rewrite of constants into initializers); ONNX Runtime is not
needed to export. See docs/export.md.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from fastforward.exceptions import ExportError
from fastforward.export import _qdq
from fastforward.export._qdq import EmissionLog
from fastforward.flags import export_mode, strict_quantization
from fastforward.nn.quantizer import Quantizer

__all__ = ["ExportArtifacts", "ExportError", "SUPPORTED", "export"]

# (target, format) pairs this package writes; compared case-insensitively.
SUPPORTED = (("qnn", "onnx_qdq"),)

DEFAULT_OPSET = 17
# The TorchScript-based exporter writes at most this opset; 21 (4-bit QDQ types) is reached
# by declaring it on an opset-20 graph (20 -> 21 only widens operator types).
_TORCHSCRIPT_MAX_OPSET = 20


@dataclasses.dataclass
class ExportArtifacts:
    """What an export produced: ``stage_outputs["onnx"]`` is the written file."""

    pipeline_name: str
    stage_outputs: Dict[str, Any]
    eval_results: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.stage_outputs["onnx"]


class _ExportGuard:
    """Override on every real quantizer during an export: names the quantizer in errors and
    rejects a quantizer that changed its input without emitting QDQ nodes."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, quantizer: Quantizer, callback: Any, args: Sequence[Any],
                 kwargs: Dict[str, Any]) -> Any:
        data = args[0] if args else kwargs.get("data")
        who = "%s at %r" % (type(quantizer).__name__, self.path)
        with EmissionLog() as log:
            try:
                result = callback(*args, **kwargs)
            except ExportError as exc:
                raise ExportError("cannot export %s: %s" % (who, exc)) from None
        if result is data or log.count:
            return result
        raise ExportError(
            "cannot export %s: it changed its input without a static affine quantization "
            "(custom quantization functions and quantizers that build their own result have "
            "no ONNX QuantizeLinear/DequantizeLinear form); disable it or replace it by a "
            "LinearQuantizer" % who
        )


class _Uncalibrated(torch.nn.Module):
    """Stands in, during an export, for a quantizer whose parameters were never initialised:
    it never ran while the model was calibrated (a branch the data never took, or a value
    that is a Python int when the model runs but a tensor under tracing, such as a size), so
    the model as it runs never quantizes there either. Without parameters it does not trip
    torch's tracer; it passes its input on unchanged, as the running model does, and warns
    once if the trace reaches it with a tensor."""

    def __init__(self, path: str, quantizer: Quantizer) -> None:
        super().__init__()
        self.path, self.kind, self.warned = path, type(quantizer).__name__, False

    def forward(self, data: Any) -> Any:
        if isinstance(data, torch.Tensor) and not self.warned:
            self.warned = True
            warnings.warn("export: %s at %r was never calibrated (it did not run on the calibration "
                          "data); the exported graph does not quantize there" % (self.kind, self.path),
                          stacklevel=2)
        return data


class _SwapUncalibrated:
    """Puts an ``_Uncalibrated`` in every slot holding an uncalibrated quantizer until
    ``remove()`` puts the quantizers back."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.swapped: list = []
        for name, parent in model.named_modules():
            for attr, child in list(parent._modules.items()):
                if (isinstance(child, Quantizer) and not child.is_stub()
                        and getattr(child, "has_uninitialized_params", False)):
                    path = (name + "." if name else "") + attr
                    parent._modules[attr] = _Uncalibrated(path, child)
                    self.swapped.append((parent, attr, child))

    def remove(self) -> None:
        for parent, attr, child in self.swapped:
            parent._modules[attr] = child
        self.swapped = []


class _ModulePath:
    """Forward hooks keeping the path of the innermost module running, so an ``ExportError``
    raised outside any quantizer (integers a module holds, say) can name where it happened."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.stack: list = []
        self.handles = []
        for path, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._enter(path)))
            self.handles.append(module.register_forward_hook(self._leave))

    def _enter(self, path: str) -> Any:
        def hook(module: torch.nn.Module, args: Any) -> None:
            self.stack.append(path)
        return hook

    def _leave(self, module: torch.nn.Module, args: Any, output: Any) -> None:
        self.stack.pop()

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _check_request(target: str, format: str, model_name: str) -> None:
    if (str(target).lower(), str(format).lower()) not in SUPPORTED:
        raise ValueError(
            "export: no pipeline for target=%r, format=%r (supported: %s)"
            % (target, format, ", ".join("target=%r, format=%r" % pair for pair in SUPPORTED))
        )
    if not model_name or os.sep in model_name or (os.altsep and os.altsep in model_name) or model_name in (".", ".."):
        raise ValueError("export: model_name must be a plain file name, got %r" % (model_name,))


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "fastforward.export needs the 'onnx' package (ffq's scripts install onnx==1.23.2)"
        ) from exc
    return onnx


def _trace_to_onnx(model: torch.nn.Module, args: Tuple[Any, ...], path: str, opset: int,
                   input_names: Optional[Sequence[str]], output_names: Optional[Sequence[str]],
                   verbose: Optional[bool], options: Dict[str, Any]) -> None:
    kwargs: Dict[str, Any] = {"opset_version": opset}
    if input_names is not None:
        kwargs["input_names"] = list(input_names)
    if output_names is not None:
        kwargs["output_names"] = list(output_names)
    if verbose is not None:
        kwargs["verbose"] = bool(verbose)
    kwargs.update(options)
    major = int(torch.__version__.split(".")[0])
    if major >= 2:
        kwargs["dynamo"] = False  # the TorchScript exporter runs the QDQ symbolics
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*g.op.*")  # torch 1.13
        torch.onnx.export(model, args, path, **kwargs)


_QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")


def _constants_to_initializers(onnx: Any, model_proto: Any) -> None:
    """Constant nodes feeding QuantizeLinear/DequantizeLinear become initializers (the
    stored integer weights, scales and zero points)."""
    graph = model_proto.graph
    qdq_inputs = {name for node in graph.node if node.op_type in _QDQ_OPS for name in node.input}
    keep = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.output) == 1 and node.output[0] in qdq_inputs:
            attrs = {a.name: a for a in node.attribute}
            if set(attrs) == {"value"}:
                tensor = onnx.TensorProto()
                tensor.CopyFrom(attrs["value"].t)
                tensor.name = node.output[0]
                graph.initializer.append(tensor)
                continue
        keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)


def _rewrite_4bit(onnx: Any, model_proto: Any) -> None:
    """Replace each 4-bit marker (a Constant -> marker pair) by an INT4/UINT4 initializer."""
    from onnx import numpy_helper

    graph = model_proto.graph
    producers = {out: node for node in graph.node for out in node.output}
    domain, op_type = _qdq.INT4_MARKER.split("::")
    markers = [n for n in graph.node if n.domain == domain and n.op_type == op_type]
    drop = set()
    for marker in markers:
        source = producers.get(marker.input[0])
        if source is None or source.op_type != "Constant":
            raise ExportError("internal: a 4-bit marker does not read a constant")
        values = numpy_helper.to_array(source.attribute[0].t)
        kind = onnx.TensorProto.INT4 if values.dtype.kind == "i" else onnx.TensorProto.UINT4
        tensor = onnx.helper.make_tensor(marker.output[0], kind, list(values.shape),
                                         values.astype("int64").reshape(-1).tolist())
        graph.initializer.append(tensor)
        drop.add(id(marker))
        drop.add(id(source))
    keep = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(keep)
    # torch recorded no type for the markers' outputs: drop those (now initializers) entries
    renamed = {m.output[0] for m in markers}
    infos = [v for v in graph.value_info if v.name not in renamed]
    del graph.value_info[:]
    graph.value_info.extend(infos)
    imports = [o for o in model_proto.opset_import if o.domain != domain]
    del model_proto.opset_import[:]
    model_proto.opset_import.extend(imports)


def _declare_opset(model_proto: Any, opset: int) -> None:
    for entry in model_proto.opset_import:
        if entry.domain in ("", "ai.onnx") and entry.version != opset:
            changed = [n.op_type for n in model_proto.graph.node if n.op_type in ("GroupNormalization",)]
            if changed:
                raise ExportError("cannot declare opset %d: %s changed meaning at opset 21" % (opset, changed[0]))
            entry.version = opset


def export(model: torch.nn.Module, data: Any, output_directory: str, model_name: str,
           target: str = "qnn", format: str = "onnx_qdq", *,
           model_kwargs: Optional[Dict[str, Any]] = None,
           input_names: Optional[Sequence[str]] = None,
           output_names: Optional[Sequence[str]] = None,
           verbose: Optional[bool] = None,
           opset_version: int = DEFAULT_OPSET,
           onnx_export_options: Optional[Dict[str, Any]] = None) -> ExportArtifacts:
    """Write ``model`` as ``<output_directory>/<model_name>.onnx`` with QDQ nodes.

    ``data`` is a tuple of example positional inputs (a single tensor is accepted too);
    ``model_kwargs`` example keyword inputs. Every active static affine quantizer becomes a
    QuantizeLinear/DequantizeLinear pair (per-tensor, or per-channel with ``axis``), a
    quantized parameter an integer initializer feeding DequantizeLinear; disabled quantizers
    and stubs leave the float graph as torch's exporter writes it. A quantizer ONNX cannot
    express raises ``ExportError`` naming its module path. ``onnx_export_options`` are passed
    on to ``torch.onnx.export``. The file is written to a temporary file in
    ``output_directory`` and renamed into place.
    """
    _check_request(target, format, model_name)
    torch_max = _TORCHSCRIPT_MAX_OPSET if int(torch.__version__.split(".")[0]) >= 2 else 17
    if opset_version > torch_max and (torch_max < _TORCHSCRIPT_MAX_OPSET or opset_version > 21):
        raise ValueError("export: opset_version %d is not supported with torch %s (at most %d%s)"
                         % (opset_version, torch.__version__, torch_max,
                            ", or 21" if torch_max == _TORCHSCRIPT_MAX_OPSET else ""))
    onnx = _import_onnx()
    args = (data,) if isinstance(data, torch.Tensor) else tuple(data)
    if model_kwargs:
        args = args + (dict(model_kwargs),)
    os.makedirs(output_directory, exist_ok=True)
    final = os.path.join(output_directory, model_name + ".onnx")

    fd, tmp = tempfile.mkstemp(prefix="." + model_name + ".", suffix=".onnx.tmp", dir=output_directory)
    os.close(fd)
    handles = []
    try:
        try:
            handles.append(_SwapUncalibrated(model))
            seen = set()
            for path, module in model.named_modules():
                if isinstance(module, Quantizer) and not module.is_stub() and id(module) not in seen:
                    seen.add(id(module))
                    handles.append(module.register_override(_ExportGuard(path)))
            _qdq.TARGET_OPSET[0] = opset_version
            where = _ModulePath(model)
            handles.append(where)
            with export_mode(True), strict_quantization(False), torch.no_grad():
                try:
                    _trace_to_onnx(model, args, tmp, min(opset_version, torch_max), input_names,
                                   output_names, verbose, dict(onnx_export_options or {}))
                except ExportError as exc:
                    if str(exc).startswith("cannot export") or not where.stack:
                        raise
                    raise ExportError("cannot export the module at %r (%s): %s" % (
                        where.stack[-1], type(dict(model.named_modules())[where.stack[-1]]).__name__,
                        exc)) from None
        finally:
            _qdq.TARGET_OPSET[0] = DEFAULT_OPSET
            for handle in handles:
                handle.remove()
        proto = onnx.load(tmp)
        _rewrite_4bit(onnx, proto)
        _declare_opset(proto, opset_version)
        _constants_to_initializers(onnx, proto)
        onnx.checker.check_model(proto, full_check=True)
        with open(tmp, "wb") as f:
            f.write(proto.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; the result is a normal file
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return ExportArtifacts(pipeline_name="qnn/onnx_qdq", stage_outputs={"onnx": final})

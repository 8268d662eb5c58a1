"""The ONNX side of fastforward.export: tracing a model with torch's TorchScript-based
exporter while its quantizers emit QDQ nodes (or, for the encodings format, markers), the
rewrites of the traced graph, and atomic file writing. The pipelines' stages
(fastforward.export._stages) call these; nothing here knows about pipelines.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from fastforward.exceptions import ExportError
from fastforward.export import _qdq
from fastforward.export._qdq import EmissionLog
from fastforward.flags import export_mode, strict_quantization
from fastforward.nn.quantizer import Quantizer

DEFAULT_OPSET = 17
# The TorchScript-based exporter writes at most this opset; 21 (4-bit QDQ types) is reached
# by declaring it on an opset-20 graph (20 -> 21 only widens operator types).
_TORCHSCRIPT_MAX_OPSET = 20


class _ExportGuard:
    """Override on every real quantizer during an export: names the quantizer in errors (and,
    for the encodings format, in its annotations) and rejects a quantizer that changed its
    input without emitting QDQ nodes."""

    def __init__(self, path: str, notes: Optional[_qdq.Annotations]) -> None:
        self.path, self.notes = path, notes

    def __call__(self, quantizer: Quantizer, callback: Any, args: Sequence[Any],
                 kwargs: Dict[str, Any]) -> Any:
        data = args[0] if args else kwargs.get("data")
        who = "%s at %r" % (type(quantizer).__name__, self.path)
        paths = self.notes.paths if self.notes is not None else []
        paths.append(self.path)
        with EmissionLog() as log:
            try:
                result = callback(*args, **kwargs)
            except ExportError as exc:
                raise ExportError("cannot export %s: %s" % (who, exc)) from None
            finally:
                paths.pop()
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

    def __init__(self, model: torch.nn.Module, stack: Optional[list] = None) -> None:
        self.stack: list = [] if stack is None else stack
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


def import_onnx() -> Any:
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
        warnings.filterwarnings("ignore", message=".*shape inference of ffq::")  # our markers (torch 1.13)
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
    """4-bit values become INT4/UINT4 initializers: each 4-bit marker (a Constant -> marker
    pair: activation zero points; an int32 one is a 16-bit zero point, UINT16) and the integers and zero point of each stored 4-bit
    weight (found by value: ``_qdq.FOUR_BIT_WEIGHTS``)."""
    from onnx import numpy_helper

    graph = model_proto.graph
    producers = {out: node for node in graph.node for out in node.output}
    domain, op_type = _qdq.INT4_MARKER.split("::")
    markers = [n for n in graph.node if n.domain == domain and n.op_type == op_type]
    drop = set()

    def four_bit(name: str, values: Any) -> None:
        if values.dtype.itemsize == 4:  # (a 16-bit zero point, traced as int32)
            kind = onnx.TensorProto.UINT16
        else:
            kind = onnx.TensorProto.INT4 if values.dtype.kind == "i" else onnx.TensorProto.UINT4
        graph.initializer.append(onnx.helper.make_tensor(name, kind, list(values.shape),
                                                         values.astype("int64").reshape(-1).tolist()))

    for marker in markers:
        source = producers.get(marker.input[0])
        if source is None or source.op_type != "Constant":
            raise ExportError("internal: a 4-bit marker does not read a constant")
        four_bit(marker.output[0], numpy_helper.to_array(source.attribute[0].t))
        drop.add(id(marker))
        drop.add(id(source))

    def constant(name: str) -> Any:
        node = producers.get(name)
        if node is None or node.op_type != "Constant" or len(node.attribute) != 1 or node.attribute[0].name != "value":
            return None
        return numpy_helper.to_array(node.attribute[0].t)

    weights = [tuple(t.detach().cpu().numpy() for t in entry) for entry in _qdq.FOUR_BIT_WEIGHTS]
    renamed = {m.output[0] for m in markers}
    done = set()
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or len(node.input) < 3 or node.input[0] in done:
            continue
        got = [constant(name) for name in node.input[:3]]
        if any(v is None for v in got):
            continue
        if not any(all(a.shape == b.shape and a.dtype == b.dtype and (a == b).all() for a, b in zip(got, w))
                   for w in weights):
            continue
        for name, values in ((node.input[0], got[0]), (node.input[2], got[2])):
            if name in done:
                continue
            four_bit(name, values)
            drop.add(id(producers[name]))
            done.add(name)
            renamed.add(name)
    keep = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(keep)
    # torch recorded no type (or an int8 one) for those values: drop the entries
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


def torch_max_opset() -> int:
    return _TORCHSCRIPT_MAX_OPSET if int(torch.__version__.split(".")[0]) >= 2 else 17


def check_opset(opset_version: int) -> None:
    torch_max = torch_max_opset()
    if opset_version > torch_max and (torch_max < _TORCHSCRIPT_MAX_OPSET or opset_version > 21):
        raise ValueError("export: opset_version %d is not supported with torch %s (at most %d%s)"
                         % (opset_version, torch.__version__, torch_max,
                            ", or 21" if torch_max == _TORCHSCRIPT_MAX_OPSET else ""))


def example_args(data: Any, model_kwargs: Optional[Dict[str, Any]]) -> Tuple[Any, ...]:
    """``torch.onnx.export``'s ``args``: the positional examples, then the keyword ones."""
    args = (data,) if isinstance(data, torch.Tensor) else tuple(data)
    if model_kwargs:
        args = args + (dict(model_kwargs),)
    return args


@contextlib.contextmanager
def _no_fused_attention() -> Iterator[None]:
    """The trace runs without autograd, which lets ``nn.MultiheadAttention`` and the
    ``nn.Transformer*`` layers take torch's fused inference kernels
    (``aten::_native_multi_head_attention``, nested tensors): ONNX has no form for them. Their
    switch is off while the model is traced, so they run the ops the exporter writes."""
    mha = getattr(torch.backends, "mha", None)
    if mha is None or not hasattr(mha, "set_fastpath_enabled"):
        yield
        return
    was = mha.get_fastpath_enabled()
    mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        mha.set_fastpath_enabled(was)


def _repeat_heads(x: torch.Tensor, groups: int) -> torch.Tensor:
    """``x.repeat_interleave(groups, -3)`` as expand + reshape (ops every opset has)."""
    shape = list(x.shape)
    grown = x.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return grown.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


@contextlib.contextmanager
def _grouped_attention_spelt_out() -> Iterator[None]:
    """torch's exporter has no ONNX form for ``F.scaled_dot_product_attention(...,
    enable_gqa=True)`` (grouped-query attention: fewer key / value heads than query heads,
    as transformers' Llama, Qwen, Mistral call it): "conversion of scaled_dot_product_attention
    not implemented if enable_gqa is True". While the model is traced, such a call repeats
    each key / value head for its group of query heads (what enable_gqa means) and calls the
    attention without the flag; calls without it are passed on as they are."""
    original = getattr(F, "scaled_dot_product_attention", None)
    if original is None:  # (torch 1.13)
        yield
        return

    def attention(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        gqa = kwargs.pop("enable_gqa", False)
        if len(args) > 4:  # (attn_mask, dropout_p, is_causal, scale, enable_gqa) by position
            gqa, args = args[4], args[:4]
        if gqa and query.dim() >= 3 and key.dim() >= 3 and key.size(-3) != query.size(-3):
            if query.size(-3) % key.size(-3) or query.size(-3) % value.size(-3):
                raise ExportError("scaled_dot_product_attention with enable_gqa: %d query heads are no "
                                  "multiple of %d key / %d value heads"
                                  % (query.size(-3), key.size(-3), value.size(-3)))
            key = _repeat_heads(key, query.size(-3) // key.size(-3))
            value = _repeat_heads(value, query.size(-3) // value.size(-3))
        return original(query, key, value, *args, **kwargs)

    F.scaled_dot_product_attention = attention
    try:
        yield
    finally:
        F.scaled_dot_product_attention = original


def _diff(input: torch.Tensor, n: int = 1, dim: int = -1, prepend: Optional[torch.Tensor] = None,
          append: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``torch.diff`` as concatenation, slices and a subtraction (or, on booleans, an
    inequality, as torch computes it there)."""
    parts = [t for t in (prepend, input, append) if t is not None]
    x = torch.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.size(dim)
        later, earlier = x.narrow(dim, 1, length - 1), x.narrow(dim, 0, length - 1)
        x = later != earlier if x.dtype == torch.bool else later - earlier
    return x


def _cumsum(original: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``cumsum`` that sums booleans as int64 (what torch returns for them)."""
    def cumsum(input: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if input.dtype == torch.bool and kwargs.get("dtype") is None and len(args) < 2:
            input = input.to(torch.int64)
        return original(input, *args, **kwargs)
    return cumsum


@contextlib.contextmanager
def _ops_spelt_out() -> Iterator[None]:
    """Ops torch's TorchScript exporter writes no valid ONNX for, computed while the model is
    traced with ops it does write (the same values):

    * ``torch.diff``: no ONNX form ("Exporting the operator 'aten::diff' to ONNX opset
      version 17 is not supported");
    * ``cumsum`` of booleans: written as a ``CumSum`` of a bool tensor, which ONNX does not
      allow (onnx.checker: "CumSum ... has unsupported type: tensor(bool)"); summed as
      int64, as torch sums them.

    transformers' causal masks call both when a model runs without a key / value cache and
    without an attention mask (``use_cache=False``: every decoder-only model)."""
    saved = (torch.diff, torch.cumsum, torch.Tensor.cumsum)
    torch.diff = _diff
    torch.cumsum = _cumsum(saved[1])
    torch.Tensor.cumsum = _cumsum(saved[2])
    try:
        yield
    finally:
        torch.diff, torch.cumsum, torch.Tensor.cumsum = saved


class _Dropped:
    """An output value torch's exporter cannot return (see ``_exportable``)."""


def _exportable(value: Any, where: str, dropped: list) -> Any:
    """``value`` with every part torch's TorchScript exporter cannot return as a graph
    output left out, each noted in ``dropped`` as (where, type name). It returns tensors,
    and tuples, lists and dictionaries of them (numbers, strings and None pass on as
    before); any other object (transformers' key / value caches: ``DynamicCache``) stopped
    the export with "Only tuples, lists and Variables are supported as JIT inputs/outputs".
    Unchanged containers are returned as they are (a dictionary that lost an entry becomes a
    plain ``dict`` of the rest, in order)."""
    if isinstance(value, torch.Tensor) or value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            new = _exportable(item, "%s[%r]" % (where, key) if where else str(key), dropped)
            if not isinstance(new, _Dropped):
                kept[key] = new
        if len(kept) == len(value) and all(kept[k] is value[k] for k in kept):
            return value
        return kept
    if isinstance(value, (list, tuple)):
        items = [_exportable(item, "%s[%d]" % (where or "output", i), dropped) for i, item in enumerate(value)]
        kept_items = [item for item in items if not isinstance(item, _Dropped)]
        if len(kept_items) == len(value) and all(a is b for a, b in zip(kept_items, value)):
            return value
        return list(kept_items) if isinstance(value, list) else tuple(kept_items)
    dropped.append((where or "output", type(value).__name__))
    return _Dropped()


def _output_leaves(value: Any, where: str) -> List[Tuple[str, Tuple[int, ...]]]:
    """(name, shape) of every tensor in an output, in the order torch's exporter makes them
    graph outputs (tuples and lists in order, dictionaries in their order): a tensor alone
    is ``output``, the items of a tuple ``output_0``, ``output_1``, a dictionary's values
    its keys (``logits``), nested ones joined with ``_`` (``hidden_states_0``)."""
    if isinstance(value, torch.Tensor):
        return [(where or "output", tuple(value.shape))]
    found: List[Tuple[str, Tuple[int, ...]]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _output_leaves(item, "%s_%s" % (where, key) if where else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found += _output_leaves(item, "%s_%d" % (where or "output", i))
    return found


def _name_outputs(model_proto: Any, leaves: List[Tuple[str, Tuple[int, ...]]]) -> None:
    """Give the graph's outputs the names of ``leaves`` (``_output_leaves``) in place of the
    tracer's value numbers (``20``), when they correspond one to one: as many, each of the
    leaf's static shape, and the new names unique and unused elsewhere in the graph.
    Otherwise the graph keeps torch's names. A value computed by a node takes the name
    itself; one that is also an earlier output (a tensor returned twice: a transformers
    model's ``last_hidden_state`` and the last of its ``hidden_states``) or a graph input or
    initializer passed through gets an ``Identity`` node of that name."""
    onnx = import_onnx()
    graph = model_proto.graph
    outputs = list(graph.output)
    if not leaves or len(leaves) != len(outputs):
        return
    new = [name for name, _ in leaves]
    old = [o.name for o in outputs]
    produced = {name for node in graph.node for name in node.output}
    taken = ({i.name for i in graph.input} | {t.name for t in graph.initializer} | produced
             | {v.name for v in graph.value_info}) - set(old)
    if (len(set(new)) != len(new) or taken & set(new)
            or any(after in old and after != before for before, after in zip(old, new))):
        return
    for (_, shape), out in zip(leaves, outputs):
        dims = out.type.tensor_type.shape.dim if out.type.HasField("tensor_type") else None
        if dims is None or len(dims) != len(shape):
            return
        if any(d.HasField("dim_value") and d.dim_value != n for d, n in zip(dims, shape)):
            return
    rename: Dict[str, str] = {}
    copies: List[Tuple[str, str]] = []
    for before, after in zip(old, new):
        if before in produced and before not in rename:
            rename[before] = after
        else:
            copies.append((before, after))
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
        for i, name in enumerate(node.output):
            if name in rename:
                node.output[i] = rename[name]
    for info in graph.value_info:
        if info.name in rename:
            info.name = rename[info.name]
    for before, after in copies:
        graph.node.append(onnx.helper.make_node("Identity", [rename.get(before, before)], [after],
                                                name="output_copy_" + after))
    for out, after in zip(outputs, new):
        out.name = after


@contextlib.contextmanager
def _graph_outputs(model: torch.nn.Module, leaves: Optional[list] = None) -> Iterator[None]:
    """While the model is traced, its outputs go through ``_exportable`` (a forward hook of
    the model): a value torch's exporter cannot return is left out of the graph's outputs,
    with a warning naming it; the rest of the graph, what computes the other outputs, is
    unchanged. ``leaves`` receives the tensors of the last call's output as
    ``_output_leaves`` lists them (the names the graph's outputs get)."""
    warned = []

    def hook(module: torch.nn.Module, args: Any, output: Any) -> Any:
        dropped: list = []
        out = _exportable(output, "", dropped)
        if leaves is not None:
            leaves[:] = _output_leaves(out, "")
        if dropped and not warned:
            warned.append(True)
            warnings.warn("export: the model's output%s %s (%s) cannot be a graph output of torch's ONNX "
                          "exporter (tensors, and tuples, lists and dicts of them, can): left out of the graph"
                          "%s" % ("s" if len(dropped) > 1 else "", ", ".join(w for w, _ in dropped),
                                  ", ".join(sorted({t for _, t in dropped})),
                                  "; a transformers model returns its key / value cache so, which "
                                  "model_kwargs={'use_cache': False} turns off"
                                  if any(t.endswith("Cache") for _, t in dropped) else ""), stacklevel=2)
        return None if out is output else out

    handle = model.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def _given_arguments_only(model: torch.nn.Module, args: Tuple[Any, ...]) -> Iterator[Tuple[Any, ...]]:
    """torch's exporter calls ``forward`` with every parameter after the given ones that has
    a default, and makes a number among them a graph input (transformers'
    ``logits_to_keep=0``): the model is traced with a tensor where it runs with a Python
    number (``hidden[:, slice(-logits_to_keep, None)]`` became ``hidden[:, tensor(0)]``, the
    first position only) and ONNX Runtime requires that input; and a forward behind a
    decorator that passes one of those parameters as a keyword (transformers' ELECTRA and
    RoBERTa: ``use_cache``) failed ("got multiple values for argument 'use_cache'"). When
    ``forward`` has a default the caller did not pass, it is traced through a stand-in
    taking exactly the given values (positional ones, then the keyword ones), so every other
    parameter keeps its default as the model runs. Yields the arguments to hand to torch."""
    import inspect

    given = dict(args[-1]) if args and isinstance(args[-1], dict) else None
    positional = tuple(args[:-1]) if given is not None else tuple(args)
    given = given or {}
    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    appended = [p for p in parameters[len(positional):] if p.name not in given
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty]
    if not appended:
        yield args
        return
    inner, had = model.forward, "forward" in model.__dict__
    names = list(given)

    def forward(*values: Any) -> Any:
        return inner(*values[:len(positional)], **dict(zip(names, values[len(positional):])))

    kinds = inspect.Parameter.POSITIONAL_OR_KEYWORD
    taken = [p.name for p in parameters[:len(positional)]] + names
    forward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, kinds) for name in taken])
    model.forward = forward
    try:
        yield positional + tuple(given.values())
    finally:
        if had:
            model.forward = inner
        else:
            del model.forward


def _parameter_names(model: torch.nn.Module, args: Tuple[Any, ...]) -> Optional[List[str]]:
    """The names of ``forward``'s parameters that the leading tensors of ``args`` are passed
    to, as the graph's first input names: the tensors before any other argument, when they
    are distinct (one graph input each) and taken by named parameters; None when ``args``
    does not start with such a tensor (torch's names: the tracer's value names, such as
    ``data.1`` from a quantizer's argument or ``onnx::Mul_1``). torch's exporter makes a
    number argument a graph input too and names the inputs in order, so names stop at the
    first argument that is not a tensor (transformers' ``use_cache=False`` after
    ``input_ids``); later inputs keep torch's names."""
    import inspect

    tensors: List[torch.Tensor] = []
    for a in args:
        if not isinstance(a, torch.Tensor):
            break
        tensors.append(a)
    if not tensors or len({id(a) for a in tensors}) < len(tensors):
        return None
    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None
    named = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(named) < len(args):
        return None
    return [p.name for p in named[:len(tensors)]]


def trace(model: torch.nn.Module, args: Tuple[Any, ...], opset_version: int,
          input_names: Optional[Sequence[str]], output_names: Optional[Sequence[str]],
          verbose: Optional[bool], options: Dict[str, Any],
          notes: Optional[_qdq.Annotations] = None) -> Any:
    """The traced ``ModelProto`` of ``model(*args)``: every active static affine quantizer
    as QDQ nodes, or, with ``notes``, as markers recorded in ``notes``. A quantizer that
    cannot be written raises ``ExportError`` naming its path; the model's quantizers are
    left as they were in every case."""
    onnx = import_onnx()
    torch_max = torch_max_opset()
    fd, tmp = tempfile.mkstemp(prefix=".ff-trace.", suffix=".onnx")
    os.close(fd)
    handles: list = []
    try:
        try:
            handles.append(_SwapUncalibrated(model))
            seen = set()
            for path, module in model.named_modules():
                if isinstance(module, Quantizer) and not module.is_stub() and id(module) not in seen:
                    seen.add(id(module))
                    handles.append(module.register_override(_ExportGuard(path, notes)))
            _qdq.TARGET_OPSET[0] = opset_version
            del _qdq.FOUR_BIT_WEIGHTS[:]
            where = _ModulePath(model, notes.modules if notes is not None else None)
            handles.append(where)
            leaves: list = []
            recording = notes if notes is not None else contextlib.nullcontext()
            with export_mode(True), strict_quantization(False), torch.no_grad(), _no_fused_attention(), \
                    _grouped_attention_spelt_out(), _ops_spelt_out(), _graph_outputs(model, leaves), \
                    _given_arguments_only(model, args) as traced_args, recording:
                if input_names is None:
                    input_names = _parameter_names(model, traced_args)
                try:
                    _trace_to_onnx(model, traced_args, tmp, min(opset_version, torch_max), input_names,
                                   output_names, verbose, options)
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
        if output_names is None:
            _name_outputs(proto, leaves)
        return proto
    finally:
        os.unlink(tmp)


def declare_opset(model_proto: Any, opset_version: int) -> None:
    _declare_opset(model_proto, opset_version)


def qdq_cleanup(model_proto: Any, opset_version: int) -> None:
    """The QDQ format's rewrites: 4-bit markers into INT4/UINT4 initializers, the declared
    opset, QDQ constants into initializers."""
    onnx = import_onnx()
    _rewrite_4bit(onnx, model_proto)
    _declare_opset(model_proto, opset_version)
    _constants_to_initializers(onnx, model_proto)
    _warn_fused_softmax(model_proto)
    _warn_fused_average_pool(model_proto)
    _warn_fused_relu_4bit(model_proto)


def _warn_fused_softmax(model_proto: Any) -> None:
    """``DequantizeLinear -> Softmax -> QuantizeLinear`` is what ONNX Runtime's default
    execution fuses into its ``QLinearSoftmax``; ONNX Runtime 1.31 computes that kernel
    wrongly for a one-sided output grid (uint8, or a nonzero zero point) narrower than
    [0, 1] (scale below 1/256: the upper levels come back as 0, up to 255 steps off), while
    its reference execution and the file's meaning are right. A calibrated softmax output often has such a grid (no probability reaches 1),
    so the export says so, once, with the remedy."""
    from onnx import numpy_helper

    graph = model_proto.graph
    inits = {t.name: t for t in graph.initializer}
    softmax_out = {n.output[0] for n in graph.node if n.op_type == "Softmax"}
    narrow = 0
    for node in graph.node:
        if node.op_type != "QuantizeLinear" or node.input[0] not in softmax_out or node.input[1] not in inits:
            continue
        zp = numpy_helper.to_array(inits[node.input[2]]) if len(node.input) > 2 and node.input[2] in inits else None
        one_sided = zp is not None and (zp.dtype.kind == "u" or bool(zp.any()))  # (an int8 grid around 0 is fine)
        if one_sided and float(numpy_helper.to_array(inits[node.input[1]]).max()) < 1.0 / 256 * (1 - 1e-6):
            narrow += 1
    if narrow:
        warnings.warn("export: %d softmax output%s quantized on a one-sided grid narrower than [0, 1]: ONNX Runtime's "
                      "fused QLinearSoftmax (its default optimisation, 1.31) computes such outputs wrongly; "
                      "the file is right and ONNX Runtime's reference execution "
                      "(GraphOptimizationLevel.ORT_DISABLE_ALL) gives the right values. For ONNX Runtime's "
                      "default execution, set those quantizers' range to (0, 1)" % (narrow, "" if narrow == 1 else "s"),
                      stacklevel=3)


def _warn_fused_relu_4bit(model_proto: Any) -> None:
    """``Relu -> QuantizeLinear`` is a pair ONNX Runtime's default optimisation (its level-2
    rules, 1.31) rewrites into the QuantizeLinear alone, as if the grid's lowest level were
    its zero point; for a 4-bit type (INT4 / UINT4) it does so whatever the zero point is, so
    negative inputs come out negative where the file says 0. A symmetric 4-bit quantizer after a
    ReLU has such a grid (zero point in the middle). The file is right and the reference
    execution too; the export says so, once, with the count and the remedy."""
    from onnx import numpy_helper

    onnx = import_onnx()
    four_bit = {getattr(onnx.TensorProto, name): low for name, low in (("INT4", -8), ("UINT4", 0))
                if hasattr(onnx.TensorProto, name)}
    graph = model_proto.graph
    inits = {t.name: t for t in graph.initializer}
    relu_out = {n.output[0] for n in graph.node if n.op_type == "Relu"}
    dropped = 0
    for node in graph.node:
        if node.op_type != "QuantizeLinear" or node.input[0] not in relu_out or len(node.input) < 3:
            continue
        zp = inits.get(node.input[2])
        if zp is not None and zp.data_type in four_bit and bool((numpy_helper.to_array(zp) != four_bit[zp.data_type]).any()):
            dropped += 1
    if dropped:
        warnings.warn("export: %d ReLU output%s quantized on a 4-bit grid whose zero point is not its lowest level: "
                      "ONNX Runtime's default optimisation (1.31, its level-2 rules) removes such a Relu, so "
                      "negative values pass it; the file is right and ONNX Runtime's reference execution "
                      "(GraphOptimizationLevel.ORT_DISABLE_ALL), ORT_ENABLE_BASIC, or "
                      "disabled_optimizers=['Level2_RuleBasedTransformer'] give the right values. A one-sided 4-bit "
                      "grid (an asymmetric quantizer, or symmetric with allow_one_sided=True) avoids it"
                      % (dropped, "" if dropped == 1 else "s"), stacklevel=3)


def _overhangs(size: int, kernel: int, stride: int, begin: int, end: int) -> bool:
    """Does the last window of a ceil-mode pooling reach past the input and its padding?"""
    span = size + begin + end
    out = -(-(span - kernel) // stride) + 1
    if (out - 1) * stride >= size + begin:  # (a last window must start inside)
        out -= 1
    return (out - 1) * stride + kernel > span


def _warn_fused_average_pool(model_proto: Any) -> None:
    """``DequantizeLinear -> AveragePool -> QuantizeLinear`` is what ONNX Runtime's default
    execution fuses into its ``QLinearAveragePool``; ONNX Runtime 1.31 divides there by the
    whole kernel area also for a ceil-mode window that reaches past the input and its padding
    with ``count_include_pad`` (ONNX, torch and ORT's reference execution divide by the part
    inside): such outputs come back too small (transformers' EfficientNet head pools with
    nn.AvgPool2d(hidden_dim, ceil_mode=True), a kernel larger than its map: all 0). The
    export says so, once."""
    from onnx import shape_inference

    graph = model_proto.graph
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    consumers: Dict[str, list] = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)

    def requantized(name: str, depth: int = 0) -> bool:
        # a QuantizeLinear of the value, also past ops that only move elements (ONNX Runtime
        # moves the QuantizeLinear up through them: EfficientNet's pool -> Reshape -> Q)
        for n in consumers.get(name, []):
            if n.op_type == "QuantizeLinear" or (
                    depth < 4 and n.op_type in ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose")
                    and n.input[0] == name and requantized(n.output[0], depth + 1)):
                return True
        return False

    pools = [n for n in graph.node if n.op_type == "AveragePool" and n.input[0] in dequantized
             and requantized(n.output[0])]
    attrs = [{a.name: a for a in n.attribute} for n in pools]
    pools = [(n, a) for n, a in zip(pools, attrs)
             if "ceil_mode" in a and a["ceil_mode"].i and "count_include_pad" in a and a["count_include_pad"].i]
    if not pools:
        return
    shapes: Dict[str, Any] = {}
    try:
        inferred = shape_inference.infer_shapes(model_proto).graph
        for v in list(inferred.value_info) + list(inferred.input) + list(inferred.output):
            dims = v.type.tensor_type.shape.dim
            shapes[v.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    except Exception:  # noqa: BLE001 - without shapes every such pool counts
        pass
    wrong = 0
    for node, a in pools:
        kernel = list(a["kernel_shape"].ints)
        strides = list(a["strides"].ints) if "strides" in a else [1] * len(kernel)
        pads = list(a["pads"].ints) if "pads" in a else [0] * (2 * len(kernel))
        shape = shapes.get(node.input[0])
        sizes = shape[-len(kernel):] if shape and len(shape) >= len(kernel) else [None] * len(kernel)
        if any(size is None or _overhangs(size, kernel[d], strides[d], pads[d], pads[d + len(kernel)])
               for d, size in enumerate(sizes)):
            wrong += 1
    if wrong:
        warnings.warn("export: %d quantized average pooling%s with ceil_mode and count_include_pad ha%s a window "
                      "reaching past the input: ONNX Runtime's fused QLinearAveragePool (its default "
                      "optimisation, 1.31) divides such windows by the whole kernel area, so their outputs "
                      "come out too small; the file is right and ONNX Runtime's reference execution "
                      "(GraphOptimizationLevel.ORT_DISABLE_ALL) gives the right values"
                      % (wrong, "" if wrong == 1 else "s", "s" if wrong == 1 else "ve"), stacklevel=3)


def write_atomically(final: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` to a temporary file next to ``final``, then rename it into place: a
    failure leaves no partial file and ``final`` as it was."""
    directory = os.path.dirname(final) or "."
    base = os.path.basename(final)
    fd, tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; the result is a normal file
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

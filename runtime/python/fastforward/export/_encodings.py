"""QNN encodings from a graph traced with markers (the ``("qnn", "onnx")`` format).

Consumes a ``ModelProto`` whose quantizers were traced as ``ffq::Encoded`` / ``ffq::Param``
markers (fastforward.export._qdq) and the ``Annotation`` records they index. Produces a float
graph without markers: each quantized activation is a tensor of the graph carrying an
encoding, each quantized parameter an initializer named after the parameter ("fc.weight")
carrying one; and the encodings as a JSON-ready dictionary keyed by those tensor names.

QNN's offset is the one of ``x = (q + offset) * scale`` with ``q`` unsigned in
``[0, 2^b - 1]``. fastforward computes ``x = (raw + r) * s`` with ``raw`` signed in
``[-2^(b-1), 2^(b-1) - 1]`` and ``r = round(offset)``; with ``q = raw + 2^(b-1)``,
QNN's offset is ``r - 2^(b-1)`` and its range ``[offset * s, (offset + 2^b - 1) * s]``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from fastforward.exceptions import ExportError
from fastforward.export import _qdq

ENCODING_VERSIONS = ("0.6.1", "1.0.0")
_DOMAIN = _qdq.ENCODED_MARKER.split("::")[0]


def _same(a: _qdq.Annotation, b: _qdq.Annotation) -> bool:
    return (a.bits == b.bits and a.axis == b.axis and a.block_size == b.block_size and a.scale.shape == b.scale.shape
            and bool((a.scale == b.scale).all()) and bool((a.rounded_offset == b.rounded_offset).all()))


class _Graph:
    """The graph's nodes with renaming of tensors (in nodes, outputs and value_info), through
    an index of each tensor's readers and producer so that a rename costs what it changes."""

    def __init__(self, proto: Any) -> None:
        self.proto = proto
        self.graph = proto.graph
        self.inputs = {v.name for v in self.graph.input}
        self.outputs = {v.name for v in self.graph.output}
        self.names = ({t.name for t in self.graph.initializer} | self.inputs
                      | {o for n in self.graph.node for o in n.output})
        self.readers: Dict[str, List[Tuple[Any, int]]] = {}
        self.producers: Dict[str, Tuple[Any, int]] = {}
        for node in self.graph.node:
            for i, name in enumerate(node.input):
                self.readers.setdefault(name, []).append((node, i))
            for i, name in enumerate(node.output):
                self.producers[name] = (node, i)
        self.infos = {v.name: v for v in self.graph.value_info}

    def rename_uses(self, old: str, new: str) -> None:
        """Every node reading ``old`` reads ``new``."""
        moved = self.readers.pop(old, [])
        for node, i in moved:
            node.input[i] = new
        self.readers.setdefault(new, []).extend(moved)

    def rename_everywhere(self, old: str, new: str) -> None:
        """``old`` becomes ``new`` in producers, readers and value_info."""
        self.rename_uses(old, new)
        if old in self.producers:
            node, i = self.producers.pop(old)
            node.output[i] = new
            self.producers[new] = (node, i)
        if old in self.infos:
            info = self.infos.pop(old)
            info.name = new
            self.infos[new] = info

    def unique(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self.names:
            k += 1
            candidate = "%s_%d" % (name, k)
        self.names.add(candidate)
        return candidate


def _index(marker: Any) -> int:
    return [a.i for a in marker.attribute if a.name == "index"][0]


def _quantized_by_all_readers(g: _Graph, x: str, note: _qdq.Annotation, notes: List[_qdq.Annotation]) -> bool:
    """Whether every reader of ``x`` is an activation marker of ``note``'s grid (and ``x`` is
    no graph output): then the float ``x`` is never used and ``x`` itself can carry it."""
    if x in g.outputs:
        return False
    encoded = _qdq.ENCODED_MARKER.split("::")[1]
    for reader, _ in g.readers.get(x, []):
        if reader.domain != _DOMAIN or reader.op_type != encoded or not _same(notes[_index(reader)], note):
            return False
    return True


def resolve_markers(onnx: Any, proto: Any, notes: List[_qdq.Annotation]
                    ) -> Tuple[Dict[str, _qdq.Annotation], Dict[str, _qdq.Annotation]]:
    """Remove the markers from ``proto`` (in place); returns (activation encodings, parameter
    encodings), each a dict from tensor name to the record of its quantizer.

    An activation marker ``Y = Encoded(X)`` merges ``Y`` into ``X`` and gives ``X`` the
    encoding when every reader of ``X`` quantizes it on that grid (or ``X`` has that
    encoding already). Otherwise the marker becomes an ``Identity`` and ``Y`` gets the
    encoding: ``X`` already holds another quantizer's values (a requantization), or ``X``
    is also read unquantized or on another grid (it stays float). A graph output keeps its
    name. A parameter marker over a constant becomes an initializer named after the
    parameter."""
    g = _Graph(proto)
    graph = proto.graph
    acts: Dict[str, _qdq.Annotation] = {}
    params: Dict[str, _qdq.Annotation] = {}
    stored: Dict[str, List[Tuple[str, _qdq.Annotation, Any]]] = {}  # parameter -> [(tensor, record, values)]
    keep: List[Any] = []
    drop = set()
    from onnx import numpy_helper

    for node in list(graph.node):
        if node.domain != _DOMAIN:
            continue
        note = notes[_index(node)]
        x, y = node.input[0], node.output[0]
        if node.op_type == _qdq.PARAM_MARKER.split("::")[1]:
            source = g.producers.get(x, (None, 0))[0]
            if source is None or source.op_type != "Constant":
                raise ExportError("internal: a parameter marker does not read a constant")
            values = numpy_helper.to_array(source.attribute[0].t)
            base = note.param or "param"
            name = None
            for candidate, other, other_values in stored.get(base, []):
                if _same(other, note) and other_values.shape == values.shape and (other_values == values).all():
                    name = candidate  # the same parameter quantized again (a tied weight)
            if name is None:
                name = base if base not in g.names else g.unique(base)
                g.names.add(name)
                graph.initializer.append(numpy_helper.from_array(values, name))
                stored.setdefault(base, []).append((name, note, values))
                params[name] = note
            g.rename_uses(y, name)
            drop.add(id(node))
            drop.add(id(source))
            continue
        # an activation marker
        if x in acts:  # x holds another quantizer's values already
            if _same(acts[x], note) and y not in g.outputs:
                g.rename_uses(y, x)  # the same grid again (a shared quantizer)
                drop.add(id(node))
            else:
                keep.append(node)  # a requantization
                acts[y] = note
            continue
        if _quantized_by_all_readers(g, x, note, notes) and (y not in g.outputs or x in g.producers):
            if y in g.outputs:
                g.rename_everywhere(x, y)  # the graph output keeps its name
                acts[y] = note
            else:
                g.rename_uses(y, x)
                acts[x] = note
            drop.add(id(node))
            continue
        keep.append(node)  # x is read unquantized elsewhere: it stays float, y is the quantized copy
        acts[y] = note
    for node in keep:  # markers that stay as a copy of their input
        node.domain = ""
        node.op_type = "Identity"
        del node.attribute[:]
    nodes = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    # value_info of removed marker outputs and of tensors renamed away
    live = {o for n in graph.node for o in n.output} | g.inputs | {t.name for t in graph.initializer}
    infos = [v for v in graph.value_info if v.name in live and v.name not in params]
    del graph.value_info[:]
    graph.value_info.extend(infos)
    imports = [o for o in proto.opset_import if o.domain != _DOMAIN]
    del proto.opset_import[:]
    proto.opset_import.extend(imports)
    return acts, params


def _entries(note: _qdq.Annotation) -> List[Tuple[float, int]]:
    """(scale, QNN offset) per channel (one entry per tensor)."""
    half = 2 ** (note.bits - 1)
    scales = note.scale.reshape(-1).tolist()
    offsets = note.rounded_offset.reshape(-1).tolist()
    return [(float(s), int(r) - half) for s, r in zip(scales, offsets)]


def _symmetric(note: _qdq.Annotation) -> bool:
    """QNN's symmetric: the grid is centred on 0, i.e. no offset (r = 0) on any channel."""
    return not bool(note.rounded_offset.ne(0).any())


def encoding_entries(note: _qdq.Annotation) -> List[Dict[str, Any]]:
    """The legacy (0.6.1) layout of one tensor: one dictionary per channel."""
    if note.block_size is not None:
        raise ExportError("internal: a per-block encoding in the 0.6.1 layout")
    levels = 2 ** note.bits - 1
    sym = "True" if _symmetric(note) else "False"
    return [{"bitwidth": note.bits, "dtype": "int", "is_symmetric": sym, "min": offset * scale,
             "max": (offset + levels) * scale, "offset": offset, "scale": scale}
            for scale, offset in _entries(note)]


def encoding_record(name: str, note: _qdq.Annotation) -> Dict[str, Any]:
    """The 1.0.0 layout of one tensor: one dictionary, arrays of scales and offsets."""
    pairs = _entries(note)
    kind = "PER_TENSOR" if note.axis is None else "PER_CHANNEL" if note.block_size is None else "PER_BLOCK"
    record = {"name": name, "enc_type": kind, "dtype": "INT", "bw": note.bits, "is_sym": _symmetric(note),
              "scale": [s for s, _ in pairs], "offset": [o for _, o in pairs]}
    if note.block_size is not None:
        record["block_size"] = note.block_size
    return record


def encodings_dict(acts: Dict[str, _qdq.Annotation], params: Dict[str, _qdq.Annotation],
                   version: str) -> Dict[str, Any]:
    """The encodings file's content in layout ``version`` ("0.6.1" or "1.0.0")."""
    if version == "0.6.1":
        return {"version": version,
                "activation_encodings": {k: encoding_entries(v) for k, v in acts.items()},
                "param_encodings": {k: encoding_entries(v) for k, v in params.items()}}
    if version == "1.0.0":
        return {"version": version,
                "activation_encodings": [encoding_record(k, v) for k, v in acts.items()],
                "param_encodings": [encoding_record(k, v) for k, v in params.items()]}
    raise ValueError("export: encoding_version must be one of %s, got %r" % (", ".join(ENCODING_VERSIONS), version))


def annotate_nodes(proto: Any, acts: Dict[str, _qdq.Annotation], params: Dict[str, _qdq.Annotation]) -> bool:
    """Node metadata (onnx 1.16 and later): a node producing an encoded activation, or reading
    an encoded parameter, gets ``ff.quantizers`` = JSON ``{tensor: quantizer path}`` for those
    tensors. Returns False (and writes nothing) when this onnx has no node metadata."""
    from onnx import NodeProto

    if "metadata_props" not in [f.name for f in NodeProto.DESCRIPTOR.fields]:
        return False
    for node in proto.graph.node:
        named: Dict[str, str] = {}
        for out in node.output:
            if out in acts:
                named[out] = acts[out].path
        for inp in node.input:
            if inp in params:
                named[inp] = params[inp].path
        if named:
            entry = node.metadata_props.add()
            entry.key, entry.value = "ff.quantizers", json.dumps(named, sort_keys=True)
    return True


def rename_nodes(proto: Any, prefix: str) -> None:
    """Node names become ``<prefix>_<name>`` with characters other than letters, digits and
    ``_`` replaced by ``_`` (``/up/Gemm`` -> ``ff_up_Gemm``); unnamed nodes get
    ``<prefix>_<op type>``; a repeated name gets a ``_<n>`` suffix. Tensor names (which the
    encodings use) do not change."""
    used: Dict[str, int] = {}
    for node in proto.graph.node:
        raw = node.name or node.op_type
        body = "".join(c if c.isalnum() or c == "_" else "_" for c in raw).strip("_")
        while "__" in body:
            body = body.replace("__", "_")
        name = "%s_%s" % (prefix, body or node.op_type)
        count = used.get(name, 0)
        used[name] = count + 1
        node.name = name if count == 0 else "%s_%d" % (name, count + 1)


def check_names(proto: Any, encodings: Dict[str, Any]) -> Optional[str]:
    """The first tensor name of ``encodings`` (either layout) that is no tensor of ``proto``."""
    graph = proto.graph
    names = ({t.name for t in graph.initializer} | {v.name for v in graph.input}
             | {o for n in graph.node for o in n.output})
    for key in ("activation_encodings", "param_encodings"):
        table = encodings.get(key, {})
        listed = table.keys() if isinstance(table, dict) else [e.get("name") for e in table]
        for name in listed:
            if name not in names:
                return name
    return None

"""Which module tensor a quantizer slot quantizes (for freezing and weight fusion).

Tags say *what kind* of value a slot quantizes (``parameter/weight``); they do not say *which*
tensor. Two sources tell that, and nothing else is trusted:

* the built-in layers' convention: slot ``<attr>_quantizer`` quantizes ``module.<attr>``
  (``weight_quantizer`` -> ``weight``);
* the code of a generated class (ffq's output, FastForward's, or hand-written in that shape):
  a call ``self.<slot>(self.<path>)`` in one of the class's own methods says that ``<slot>``
  quantizes the parameter ``self.<path>``, and so do two statements in a row
  ``n = self.<path>`` and ``n = self.<slot>(n)``. A slot called on anything else
  (``self.w[0]``, a helper's argument) or on more than one tensor quantizes no known tensor.

Slot names are never parsed: ``quantizer_self_weight_1`` may quantize ``self.weight_1``,
``self.weight[1]`` or a second read of ``self.weight``. The same source also lists the reads
of ``self.<path>`` that are not such quantizer arguments (``self.weight.shape``, a helper's
argument), so that freezing never removes a tensor the code still reads.

The same code says which dimension of a weight holds its output channels, from the operator
that consumes the slot's result (``weight_output_axis``): ``linear``'s, ``conv*``'s and
``embedding``'s ``weight`` along dimension 0, ``addmm``'s ``mat2`` (a linear layer storing its
weight as ``[in, out]``: transformers' ``Conv1D``) along dimension 1.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import weakref
from typing import Any, Dict, FrozenSet, List, Optional, Set, Tuple

import torch

from fastforward.nn.quantizer import Quantizer

# class -> (slot -> attribute paths it is called on, paths read otherwise); None: no source
_READS: "weakref.WeakKeyDictionary[type, Optional[Tuple[Dict[str, FrozenSet[str]], FrozenSet[str]]]]" = \
    weakref.WeakKeyDictionary()


def _dotted(node: ast.AST) -> Optional[List[str]]:
    """["a", "b", "c"] for the expression ``a.b.c`` (names and attributes only)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return list(reversed(parts))


def _self_path(node: ast.AST, self_name: str) -> Optional[str]:
    """``a.b`` for the expression ``<self>.a.b`` (attributes only), else None."""
    parts = _dotted(node)
    if parts is None or len(parts) < 2 or parts[0] != self_name:
        return None
    return ".".join(parts[1:])


def _class_def(cls: type) -> Optional[ast.ClassDef]:
    """The syntax tree of ``cls``'s own body, or None when its source cannot be read."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    return tree.body[0] if tree.body and isinstance(tree.body[0], ast.ClassDef) else None


def _is_plain_method(fn: ast.AST) -> bool:
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not fn.args.args:
        return False
    for deco in fn.decorator_list:
        if isinstance(deco, ast.Name) and deco.id in ("staticmethod", "classmethod"):
            return False
    return True


def _slot_call(node: ast.AST, self_name: str) -> Optional[Tuple[str, ast.AST]]:
    """(slot, argument) for ``<self>.<slot>(<argument>)``."""
    if (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords
            and isinstance(node.func, ast.Attribute) and _self_path(node.func, self_name) == node.func.attr):
        return node.func.attr, node.args[0]
    return None


def _through_a_name(fn: ast.AST, self_name: str) -> List[Tuple[str, str, str, ast.AST]]:
    """(name, path, slot, read) for two statements in a row ``n = <self>.<path>`` and
    ``n = <self>.<slot>(n)`` (ffq quantizes a name right after its assignment): the raw value
    lives only until the quantizer replaces it."""
    found = []
    for node in ast.walk(fn):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for first, second in zip(block, block[1:]):
                if not (isinstance(first, ast.Assign) and isinstance(second, ast.Assign)
                        and len(first.targets) == 1 and len(second.targets) == 1
                        and isinstance(first.targets[0], ast.Name) and isinstance(second.targets[0], ast.Name)):
                    continue
                name = first.targets[0].id
                path = _self_path(first.value, self_name)
                call = _slot_call(second.value, self_name)
                if (path is not None and call is not None and second.targets[0].id == name
                        and isinstance(call[1], ast.Name) and call[1].id == name):
                    found.append((name, path, call[0], first.value))
    return found


def class_reads(cls: type) -> Optional[Tuple[Dict[str, FrozenSet[str]], FrozenSet[str]]]:
    """For the methods written in ``cls``'s own body: (slot -> the paths ``p`` of every call
    ``self.<slot>(self.<p>)``, the paths ``self.<p>`` read in any other way, prefixes included,
    outside ``__init__`` and ``__init_quantization__``). None when the source cannot be read."""
    if cls in _READS:
        return _READS[cls]
    result = None
    classdef = _class_def(cls)
    if classdef is not None:
        calls: Dict[str, Set[str]] = {}
        other: Set[str] = set()
        for fn in classdef.body:
            if not _is_plain_method(fn):
                continue
            self_name = fn.args.args[0].arg
            as_argument = set()
            for name, path, slot, read in _through_a_name(fn, self_name):
                calls.setdefault(slot, set()).add(path)
                as_argument.add(id(read))
            for node in ast.walk(fn):
                call = _slot_call(node, self_name)
                path = _self_path(call[1], self_name) if call is not None else None
                if call is not None and path is not None:
                    calls.setdefault(call[0], set()).add(path)
                    as_argument.add(id(call[1]))
            if fn.name in ("__init__", "__init_quantization__"):
                continue  # run before freezing, never after
            for node in ast.walk(fn):
                if isinstance(node, ast.Attribute) and id(node) not in as_argument:
                    path = _self_path(node, self_name)
                    if path is not None:
                        other.add(path)
        result = ({k: frozenset(v) for k, v in calls.items()}, frozenset(other))
    _READS[cls] = result
    return result


def _parameter_at(module: torch.nn.Module, path: str) -> Optional[Tuple[torch.nn.Module, str]]:
    """(owner, name) when ``module.<path>`` is a parameter (through submodules only)."""
    *mods, name = path.split(".")
    owner = module
    for part in mods:
        owner = owner._modules.get(part)
        if owner is None or isinstance(owner, Quantizer):
            return None
    if owner._parameters.get(name) is None:
        return None
    return owner, name


def quantized_tensor(module: torch.nn.Module, slot: str) -> Optional[Tuple[torch.nn.Module, str]]:
    """(owner, attribute) of the parameter that quantizer slot ``slot`` of ``module``
    quantizes, when the module's convention or code says so unambiguously; else None (see
    the module doc)."""
    if slot.endswith("_quantizer") and not slot.startswith("quantizer_"):
        attr = slot[:-len("_quantizer")]
        if module._parameters.get(attr) is not None:
            return module, attr
    reads = class_reads(type(module))
    if reads is None:
        return None
    paths = reads[0].get(slot, frozenset())
    if len(paths) != 1:
        return None
    return _parameter_at(module, next(iter(paths)))


def other_reads(module: torch.nn.Module) -> Set[Tuple[int, str]]:
    """(id(owner), name) of the parameters that ``module``'s own code reads other than as the
    argument of a quantizer call."""
    reads = class_reads(type(module))
    found = set()
    for path in reads[1] if reads is not None else ():
        hit = _parameter_at(module, path)
        if hit is not None:
            found.add((id(hit[0]), hit[1]))
    return found


# --- which dimension of a weight its consumer reads as output channels ---------------------------

# op -> its leading positional parameters (the functional op's and torch's share them)
_OP_PARAMS: Dict[str, Tuple[str, ...]] = {
    "linear": ("input", "weight", "bias"),
    "conv1d": ("input", "weight", "bias"),
    "conv2d": ("input", "weight", "bias"),
    "conv3d": ("input", "weight", "bias"),
    "embedding": ("input", "weight"),
    "addmm": ("input", "mat1", "mat2"),
}

# (op, parameter) -> the dimension of that operand that indexes the op's output channels
_OUTPUT_AXES: Dict[Tuple[str, str], int] = {
    ("linear", "weight"): 0,
    ("conv1d", "weight"): 0,
    ("conv2d", "weight"): 0,
    ("conv3d", "weight"): 0,
    ("embedding", "weight"): 0,
    ("addmm", "mat2"): 1,  # torch.addmm(bias, x, w): w is [in, out]
}

_known_ops: Dict[int, Tuple[Any, str]] = {}  # id(callable) -> (the callable, op name)


def _op_of(fn: Any) -> Optional[str]:
    """The op name of a callable that is one of the ops above: fastforward.nn.functional's
    or torch's own (``torch.addmm``, ``torch.nn.functional.linear``)."""
    if not _known_ops:
        import torch.nn.functional as F

        from fastforward.nn import functional as ff_functional

        for op in _OP_PARAMS:
            for owner in (ff_functional, torch, F):
                candidate = getattr(owner, op, None)
                if candidate is not None:
                    _known_ops[id(candidate)] = (candidate, op)
    hit = _known_ops.get(id(fn))
    return hit[1] if hit is not None and hit[0] is fn else None


def _resolve_in(namespace: Dict[str, Any], parts: List[str]) -> Any:
    if parts[0] not in namespace:
        return None
    obj = namespace[parts[0]]
    for part in parts[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _consumer_axis(parents: Dict[int, ast.AST], node: ast.AST, namespace: Dict[str, Any],
                   local_names: Set[str]) -> Optional[int]:
    """The output axis that the call ``node`` is an operand of gives it: ``node`` is an
    argument (by position or keyword) of a call of a known op, in a parameter of
    ``_OUTPUT_AXES``; else None."""
    call = parents.get(id(node))
    if isinstance(call, ast.keyword):
        call = parents.get(id(call))
    if not isinstance(call, ast.Call) or node is call.func:
        return None
    parts = _dotted(call.func)
    if parts is None or parts[0] in local_names:  # (a local shadows the module's name)
        return None
    op = _op_of(_resolve_in(namespace, parts))
    if op is None:
        return None
    names = _OP_PARAMS[op]
    param = None
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return None  # the positions after it are unknown
        if arg is node:
            param = names[i] if i < len(names) else None
    for kw in call.keywords:
        if kw.arg is None:
            return None  # **kwargs: could rebind anything
        if kw.value is node:
            param = kw.arg
    return None if param is None else _OUTPUT_AXES.get((op, param))


_UNKNOWN = -1000  # a slot whose result some code uses otherwise (or inconsistently)

# class -> (slot -> its output axis, or _UNKNOWN); None: no source
_AXES: "weakref.WeakKeyDictionary[type, Optional[Dict[str, int]]]" = weakref.WeakKeyDictionary()


def _method_axes(fn: ast.AST, namespace: Dict[str, Any], found: Dict[str, int]) -> None:
    """Record in ``found`` what method ``fn`` does with each quantizer slot's result."""
    self_name = fn.args.args[0].arg
    parents: Dict[int, ast.AST] = {}
    stores: Dict[str, int] = {}
    local_names: Set[str] = set()
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] = stores.get(node.id, 0) + 1
            local_names.add(node.id)
        elif isinstance(node, ast.arg):
            stores[node.arg] = stores.get(node.arg, 0) + 1
            local_names.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                stores[name] = stores.get(name, 0) + 2  # never a single local binding
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
            stores[node.name] = stores.get(node.name, 0) + 1
            local_names.add(node.name)

    def note(slot: str, axis: Optional[int]) -> None:
        value = _UNKNOWN if axis is None else axis
        if found.get(slot, value) != value:
            value = _UNKNOWN
        found[slot] = value

    loads: Dict[str, List[ast.Name]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.setdefault(node.id, []).append(node)
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == self_name):
            continue
        slot = node.attr
        call = parents.get(id(node))
        if not (isinstance(call, ast.Call) and call.func is node):
            if slot.startswith("quantizer") or slot.endswith("_quantizer"):
                # the quantizer itself handed on (a helper's argument): unknown use
                if isinstance(node.ctx, ast.Load):
                    note(slot, None)
            continue
        if _slot_call(call, self_name) is None:
            continue
        axis = _consumer_axis(parents, call, namespace, local_names)
        if axis is not None:
            note(slot, axis)
            continue
        # `n = self.<slot>(...)`: every read of `n` (its only binding) says it
        assign = parents.get(id(call))
        if (isinstance(assign, ast.Assign) and assign.value is call and len(assign.targets) == 1
                and isinstance(assign.targets[0], ast.Name) and stores.get(assign.targets[0].id) == 1):
            reads = loads.get(assign.targets[0].id, [])
            axes = {_consumer_axis(parents, read, namespace, local_names) for read in reads}
            note(slot, axes.pop() if len(axes) == 1 else None)
        else:
            note(slot, None)


def class_output_axes(cls: type) -> Optional[Dict[str, int]]:
    """slot -> output axis (or ``_UNKNOWN``) for the slots that the methods written in
    ``cls``'s own body call; None when the source cannot be read."""
    if cls in _AXES:
        return _AXES[cls]
    result: Optional[Dict[str, int]] = None
    module = sys.modules.get(getattr(cls, "__module__", None) or "")
    classdef = _class_def(cls) if module is not None else None
    if classdef is not None:
        namespace = dict(vars(module))
        result = {}
        for fn in classdef.body:
            if _is_plain_method(fn) and fn.name not in ("__init__", "__init_quantization__"):
                _method_axes(fn, namespace, result)
    _AXES[cls] = result
    return result


def weight_output_axis(module: torch.nn.Module, slot: str) -> Optional[int]:
    """The dimension of the tensor that quantizer slot ``slot`` of ``module`` quantizes which
    indexes the output channels of the op consuming it, when the module's code says so
    unambiguously: every use of the slot's result is an operand with a known output axis
    (``_OUTPUT_AXES``), directly (``op(..., self.<slot>(w), ...)``) or through a name bound
    once (``n = self.<slot>(w)``, then ``op(..., n, ...)``), and all agree. None otherwise
    (the result goes elsewhere too, to a helper, through a reassigned name, ...)."""
    axes = class_output_axes(type(module))
    if axes is None:
        return None
    axis = axes.get(slot)
    return None if axis is None or axis == _UNKNOWN else axis

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
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import weakref
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import torch

from fastforward.nn.quantizer import Quantizer

# class -> (slot -> attribute paths it is called on, paths read otherwise); None: no source
_READS: "weakref.WeakKeyDictionary[type, Optional[Tuple[Dict[str, FrozenSet[str]], FrozenSet[str]]]]" = \
    weakref.WeakKeyDictionary()


def _self_path(node: ast.AST, self_name: str) -> Optional[str]:
    """``a.b`` for the expression ``<self>.a.b`` (attributes only), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not parts or not isinstance(node, ast.Name) or node.id != self_name:
        return None
    return ".".join(reversed(parts))


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
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        tree = None
    if tree is not None and tree.body and isinstance(tree.body[0], ast.ClassDef):
        calls: Dict[str, Set[str]] = {}
        other: Set[str] = set()
        for fn in tree.body[0].body:
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

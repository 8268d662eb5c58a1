"""mpath: a small query language that selects submodules of a model by path.

A query is a ``/``-separated path from the root module (the root itself is never a result):

* ``name`` — the child with that attribute name (``0``, ``fc1``); ``a.b`` is an error, write ``a/b``;
* ``*`` — any one child; ``**`` — zero or more levels;
* ``[re:PATTERN]`` — children whose name fully matches the regex (``\\]`` for ``]``);
* ``[cls:torch.nn.Linear]`` — children that are instances of the class (the name is resolved
  in the caller's globals and locals);
* ``[quantizer:parameter/weight]`` — quantizers whose metadata carries every listed tag
  (comma separated; ``parameter`` also matches ``parameter/weight``);
* ``~fragment`` — negation of one fragment; ``{a, b/c}`` — alternatives; ``&alias`` — a
  named query made with ``aliases(...)``.

``search(query, root)`` returns an ``MPathCollection``. Errors are ``MPathParseError`` with
the position. See docs/workflow.md.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Mapping, Optional, Union

import torch

from fastforward.mpath import fragments, selector
from fastforward.mpath._parser import (
    MPathParseError,
    MPathQueryContextualExtension,
    MPathQueryExtension,
    mpath_query_extension,
    register_mpath_query_extension,
)
from fastforward.mpath._parser import parse as _parse
from fastforward.mpath.fragments import (
    ClassFragment,
    Fragment,
    PredicateFragment,
    RegexPathFragment,
    WildcardFragment,
)
from fastforward.mpath.selector import FilterResult, MPathCollection, Selector, search_selector

__all__ = [
    "FilterResult",
    "Fragment",
    "MPathCollection",
    "MPathParseError",
    "MPathQueryContextualExtension",
    "MPathQueryExtension",
    "Selector",
    "aliases",
    "caller_context",
    "fragments",
    "local_context",
    "mpath_query_extension",
    "query",
    "query_for_module",
    "register_mpath_query_extension",
    "root",
    "search",
    "selector",
]

root = Selector(None, WildcardFragment(match_multiple=True))


# Code objects of comprehensions and generator expressions: before Python 3.12 each runs in
# a frame of its own, whose locals hold only the loop variables (3.12 inlines list, dict and
# set comprehensions into the enclosing function).
_COMPREHENSIONS = ("<listcomp>", "<dictcomp>", "<setcomp>")
_GENERATORS = ("<genexpr>",)


def _frame_context(frame: Any) -> Dict[str, Any]:
    """Builtins, globals and locals of ``frame``. A comprehension's frame also sees the
    locals of the frame running it, as on Python 3.12, where ``[search("[cls:Local]", m)
    for m in models]`` inside a function finds the function's ``Local``. A generator
    expression runs where it is consumed, usually but not always where it is written, so
    the names of the frame consuming it only fill in what is not found otherwise."""
    context: Dict[str, Any] = {}
    if frame is None:
        return context
    frames = [frame]
    while frames[-1].f_code.co_name in _COMPREHENSIONS + _GENERATORS and frames[-1].f_back is not None:
        frames.append(frames[-1].f_back)
    lexical = 1  # frames[:lexical]: the query's frame and the functions running its comprehensions
    while lexical < len(frames) and frames[lexical - 1].f_code.co_name in _COMPREHENSIONS:
        lexical += 1
    for f in reversed(frames[lexical:]):
        context.update(f.f_locals)
    context.update(vars(__import__("builtins")))
    context.update(frame.f_globals)
    for f in reversed(frames[:lexical]):  # the innermost scope's names win
        context.update(f.f_locals)
    return context


def local_context() -> Dict[str, Any]:
    """Names visible where this is called (builtins, globals, locals)."""
    frame = inspect.currentframe()
    try:
        return _frame_context(frame.f_back if frame else None)
    finally:
        del frame


def caller_context(depth: int = 1) -> Dict[str, Any]:
    """Names visible in the caller of the function calling this (``depth`` frames up)."""
    frame = inspect.currentframe()
    try:
        target = frame.f_back if frame else None
        for _ in range(depth):
            target = target.f_back if target else None
        return _frame_context(target)
    finally:
        del frame


def _in_package(module_name: str) -> bool:
    """Whether ``module_name`` is the fastforward package or one of its modules (a user's
    ``fastforward_models`` is not)."""
    return module_name == "fastforward" or module_name.startswith("fastforward.")


def _outside_context() -> Dict[str, Any]:
    """The names of the first frame outside the fastforward package."""
    frame = inspect.currentframe()
    try:
        f = frame
        while f is not None and _in_package(f.f_globals.get("__name__", "")):
            f = f.f_back
        return _frame_context(f)
    finally:
        del frame


def query(query_str: str, *, context: Optional[Mapping[str, Any]] = None,
          aliases: Optional[Mapping[str, Selector]] = None) -> Selector:
    """Parse a query; ``[cls:...]`` names resolve in ``context`` (default: the caller)."""
    if context is None:
        context = _outside_context()
    return _parse(query_str, context=context, aliases=aliases)


def aliases(*, context: Optional[Mapping[str, Any]] = None, **named_queries: Union[str, Selector]) -> Dict[str, Selector]:
    """Named queries for ``&name``; later ones may use earlier ones."""
    if context is None:
        context = _outside_context()
    out: Dict[str, Selector] = {}
    for name, q in named_queries.items():
        out[name] = q if isinstance(q, Selector) else _parse(q, context=context, aliases=out)
    return out


def search(query: Union[str, Selector, Fragment], root: torch.nn.Module, *,
           aliases: Optional[Mapping[str, Selector]] = None,
           root_aliases_attribute: str = "aliases") -> MPathCollection:
    """Every submodule of ``root`` the query selects."""
    if aliases is None:
        candidate = getattr(root, root_aliases_attribute, None)
        if isinstance(candidate, dict) and all(isinstance(v, Selector) for v in candidate.values()):
            aliases = candidate
    if isinstance(query, str):
        sel = _parse(query, context=_outside_context(), aliases=aliases)
    elif isinstance(query, Fragment):
        sel = Selector(None, query)
    elif isinstance(query, Selector):
        sel = query
    else:
        raise TypeError("search: query must be a string or a Selector, got %r" % (query,))
    return search_selector(sel, root)


def query_for_module(module: torch.nn.Module, root: torch.nn.Module) -> Selector:
    """A query selecting exactly ``module`` (by its path) under ``root``."""
    for name, sub in root.named_modules():
        if sub is module and name:
            # one PathFragment per level, not a parsed string: a ModuleDict key may be any
            # text without a '.' ("my-layer", "x y"), which the query syntax cannot spell
            return Selector.from_steps([fragments.PathFragment(part) for part in name.split(".")])
    raise ValueError("module is not a submodule of root")


# --- built-in extensions -----------------------------------------------------------------------


class _RegexExtension(MPathQueryExtension):
    @classmethod
    def from_raw_string(cls, raw: str) -> Fragment:
        return RegexPathFragment(raw)


class _ClassExtension(MPathQueryContextualExtension):
    @classmethod
    def from_raw_string_with_context(cls, raw: str, context: Mapping[str, Any]) -> Fragment:
        parts = [p.strip() for p in raw.split(".")]
        if not all(parts):
            raise ValueError("bad class name %r" % raw)
        if parts[0] not in context:
            raise NameError("name %r is not defined where the query was made" % parts[0])
        obj = context[parts[0]]
        for part in parts[1:]:
            obj = getattr(obj, part)
        if not isinstance(obj, type):
            raise TypeError("%r is not a class" % raw)
        frag = ClassFragment(obj)
        return frag


class _QuantizerTagExtension(MPathQueryExtension):
    @classmethod
    def from_raw_string(cls, raw: str) -> Fragment:
        from fastforward.nn.quantizer import Quantizer, Tag

        tags = [Tag(t.strip()) for t in raw.split(",") if t.strip()]
        if not tags:
            raise ValueError("no tag given")

        def has_tags(name: str, module: torch.nn.Module) -> bool:
            md = getattr(module, "quant_metadata", None)
            return isinstance(module, Quantizer) and md is not None and all(t in md for t in tags)

        return PredicateFragment(has_tags, "[quantizer:%s]" % ", ".join(t.symbol for t in tags))


for _tag, _ext in (("re", _RegexExtension), ("regex", _RegexExtension), ("cls", _ClassExtension),
                   ("class", _ClassExtension), ("quantizer", _QuantizerTagExtension),
                   ("qtag", _QuantizerTagExtension)):
    register_mpath_query_extension(_tag, _ext, override=True)

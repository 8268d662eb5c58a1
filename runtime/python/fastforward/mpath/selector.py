"""Selectors (parsed queries), search results and the matcher.

A ``Selector`` is a sequence of steps; a step is a fragment (one level, or ``**`` for zero
or more) or a set of alternative sub-selectors (``{a, b/c}``). ``search`` walks the module
tree from the root (which is never a result itself) and returns every module reached at the
end of the sequence, each once.
"""

from __future__ import annotations

from collections import abc
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

import torch

from fastforward.mpath.fragments import Fragment, JointFragment, WildcardFragment

__all__ = ["FilterResult", "MPathCollection", "Selector", "search_selector"]


class _Alternatives:
    """One step matching any of several sub-selectors."""

    def __init__(self, options: Sequence["Selector"]) -> None:
        self.options = tuple(options)

    def __str__(self) -> str:
        return "{%s}" % ", ".join(str(o) for o in self.options)


Step = Union[Fragment, _Alternatives]


class Selector:
    """A parsed query. ``Selector(next, fragment)`` is ``fragment`` followed by ``next``
    (``next`` may be None). Combine with ``/`` (sequence; strings are parsed), ``|``
    (alternatives), and, for single-fragment selectors, ``&`` and ``~``."""

    def __init__(self, next: Optional["Selector"] = None, fragment: Optional[Fragment] = None) -> None:
        steps: Tuple[Step, ...] = ()
        if fragment is not None:
            steps = (fragment,)
        if next is not None:
            steps = steps + next.steps
        self.steps = steps

    @classmethod
    def from_steps(cls, steps: Sequence[Step]) -> "Selector":
        sel = cls()
        sel.steps = tuple(steps)
        return sel

    @staticmethod
    def _coerce(other: Any) -> "Selector":
        if isinstance(other, Selector):
            return other
        if isinstance(other, Fragment):
            return Selector(None, other)
        if isinstance(other, str):
            # parsed like mpath.query: [cls:...] names resolve where the selectors are
            # combined (the first frame outside fastforward), not in an empty namespace
            from fastforward.mpath import _outside_context, _parser

            return _parser.parse(other, context=_outside_context())
        raise TypeError("cannot combine a Selector with %r" % (other,))

    def __truediv__(self, other: Any) -> "Selector":
        return Selector.from_steps(self.steps + Selector._coerce(other).steps)

    def __rtruediv__(self, other: Any) -> "Selector":
        return Selector.from_steps(Selector._coerce(other).steps + self.steps)

    def __or__(self, other: Any) -> "Selector":
        return Selector.from_steps((_Alternatives((self, Selector._coerce(other))),))

    def _single(self, what: str) -> Fragment:
        if len(self.steps) != 1 or not isinstance(self.steps[0], Fragment):
            raise ValueError("%s applies to single-fragment selectors only, not %r" % (what, str(self)))
        return self.steps[0]

    def __and__(self, other: Any) -> "Selector":
        return Selector(None, JointFragment(self._single("&"), Selector._coerce(other)._single("&")))

    def __invert__(self) -> "Selector":
        return Selector(None, ~self._single("~"))

    def __str__(self) -> str:
        return "/".join(str(s) for s in self.steps)

    def __repr__(self) -> str:
        return "Selector(%r)" % str(self)


class FilterResult(NamedTuple):
    """One search result: the module, its path from the root, its parent and the
    attribute it has in the parent."""

    full_name: str
    module: torch.nn.Module
    parent: torch.nn.Module
    parent_attribute: str
    fragment_matches: Tuple[str, ...] = ()

    def check_unchanged(self) -> None:
        """``ValueError`` if the parent no longer holds the module found (``update_module``'s
        safe check)."""
        if self.parent._modules.get(self.parent_attribute) is not self.module:
            raise ValueError(
                "%r: the module in the parent changed since the search; not replacing it" % self.full_name
            )

    def update_module(self, replacement: torch.nn.Module, safe: bool = True) -> "FilterResult":
        """Put ``replacement`` where the module was (through the parent's setattr); returns
        the result for the replacement."""
        if safe:
            self.check_unchanged()
        setattr(self.parent, self.parent_attribute, replacement)
        return self._replace(module=replacement)


def _children(module: torch.nn.Module) -> Iterator[Tuple[str, torch.nn.Module]]:
    for name, child in module._modules.items():
        if child is not None:
            yield name, child


def _walk(steps: Tuple[Step, ...], i: int, node: Tuple[Tuple[str, ...], torch.nn.Module, Any],
          ) -> Iterator[Tuple[Tuple[str, ...], torch.nn.Module, Any]]:
    """Yield every node reached by matching ``steps[i:]`` from ``node``.

    A node is (path parts, module, parent)."""
    if i == len(steps):
        yield node
        return
    step = steps[i]
    path, module, _ = node
    if isinstance(step, _Alternatives):
        for option in step.options:
            for reached in _walk(option.steps, 0, node):
                yield from _walk(steps, i + 1, reached)
        return
    if isinstance(step, WildcardFragment) and step.match_multiple:
        yield from _walk(steps, i + 1, node)
        for name, child in _children(module):
            yield from _walk(steps, i, (path + (name,), child, module))
        return
    for name, child in _children(module):
        if step.match(name, child):
            yield from _walk(steps, i + 1, (path + (name,), child, module))


def search_selector(selector: Selector, root: torch.nn.Module) -> "MPathCollection":
    """Every module (other than ``root``) that ``selector`` reaches, each once."""
    results: List[FilterResult] = []
    seen = set()
    for path, module, parent in _walk(selector.steps, 0, ((), root, None)):
        if not path or id(module) in seen:
            continue
        seen.add(id(module))
        results.append(FilterResult(".".join(path), module, parent, path[-1], path))
    return MPathCollection(root, results)


class MPathCollection(abc.Sequence):
    """The results of a search (a sequence of ``FilterResult``, each module once)."""

    def __init__(self, root: torch.nn.Module, results: Optional[Sequence[FilterResult]] = None) -> None:
        self.root = root
        self._results: List[FilterResult] = []
        self._ids: Set[int] = set()  # id() of the modules held (the results keep them alive)
        for r in results or ():
            self.append(r)

    def _make(self, results: Sequence[FilterResult]) -> "MPathCollection":
        return type(self)(self.root, results)

    def append(self, result: FilterResult) -> None:
        # a set of ids, not a scan of the list: a search of a model with n quantizers
        # appended them in O(n^2) (586,412 comparisons for timm's convnext_tiny)
        if id(result.module) in self._ids:
            return
        self._ids.add(id(result.module))
        self._results.append(result)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self._make(self._results[index])
        return self._results[index]

    def __delitem__(self, index: Any) -> None:
        del self._results[index]
        self._ids = {id(r.module) for r in self._results}

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[FilterResult]:
        return iter(list(self._results))

    def __bool__(self) -> bool:
        return bool(self._results)

    def named_modules(self) -> Iterator[Tuple[str, torch.nn.Module]]:
        for r in self._results:
            yield r.full_name, r.module

    def modules(self) -> Iterator[torch.nn.Module]:
        for r in self._results:
            yield r.module

    def parents(self) -> Iterator[Tuple[torch.nn.Module, torch.nn.Module]]:
        """(parent, module) per result, as FastForward gives them (the parent need not be in
        the collection)."""
        for r in self._results:
            yield r.parent, r.module

    def map(self, fn: Callable[[str, torch.nn.Module], Any]) -> List[Any]:
        return [fn(r.full_name, r.module) for r in self._results]

    def apply(self, fn: Callable[[str, torch.nn.Module], Any], safe: bool = True, update: bool = True) -> List[Any]:
        """Call ``fn(name, module)`` on each result; a non-None result replaces the module."""
        out = []
        for r in list(self._results):
            value = fn(r.full_name, r.module)
            if update and value is not None:
                r.update_module(value, safe=safe)
            out.append(value)
        return out

    def _check_root(self, other: "MPathCollection") -> None:
        if not isinstance(other, MPathCollection):
            raise TypeError("expected an MPathCollection, got %r" % (other,))
        if other.root is not self.root:
            raise ValueError("collections from different roots cannot be combined")

    def union(self, other: "MPathCollection") -> "MPathCollection":
        self._check_root(other)
        return self._make(self._results + other._results)

    def intersection(self, other: "MPathCollection") -> "MPathCollection":
        self._check_root(other)
        ids = {id(r.module) for r in other._results}
        return self._make([r for r in self._results if id(r.module) in ids])

    def difference(self, other: "MPathCollection") -> "MPathCollection":
        self._check_root(other)
        ids = {id(r.module) for r in other._results}
        return self._make([r for r in self._results if id(r.module) not in ids])

    def symmetric_difference(self, other: "MPathCollection") -> "MPathCollection":
        return self.difference(other).union(other.difference(self))

    __or__ = union
    __and__ = intersection
    __sub__ = difference
    __xor__ = symmetric_difference

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, MPathCollection):
            return NotImplemented
        return other.root is self.root and {id(m) for m in self.modules()} == {id(m) for m in other.modules()}

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        names = ", ".join(r.full_name for r in self._results)
        return "%s([%s])" % (type(self).__name__, names)

"""Fragments: the one-level tests an mpath query is made of.

A fragment decides, for one child of a module (its attribute name and the module), whether
the child matches. ``WildcardFragment(match_multiple=True)`` (``**``) is special: it matches
zero or more levels and is handled by the matcher in ``selector``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Tuple

import torch

__all__ = [
    "ClassFragment",
    "DisjointFragment",
    "Fragment",
    "InvertedFragment",
    "JointFragment",
    "PathFragment",
    "PredicateFragment",
    "RegexPathFragment",
    "WildcardFragment",
]


class Fragment:
    """One step of a query: ``match(name, module) -> bool`` on a child."""

    def match(self, name: str, module: torch.nn.Module) -> bool:
        raise NotImplementedError

    def __invert__(self) -> "Fragment":
        return InvertedFragment(self)

    def __and__(self, other: "Fragment") -> "Fragment":
        return JointFragment(self, other)

    def __or__(self, other: "Fragment") -> "Fragment":
        return DisjointFragment(self, other)

    def __repr__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self)


class WildcardFragment(Fragment):
    """``*`` (one level, any name) or, with ``match_multiple``, ``**`` (zero or more levels)."""

    def __init__(self, match_multiple: bool = True) -> None:
        self.match_multiple = bool(match_multiple)

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return True

    def __str__(self) -> str:
        return "**" if self.match_multiple else "*"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, WildcardFragment) and other.match_multiple == self.match_multiple

    __hash__ = object.__hash__


class PathFragment(Fragment):
    """The child with exactly this attribute name."""

    def __init__(self, name: str) -> None:
        self.name = str(name)

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return name == self.name

    def __str__(self) -> str:
        return self.name


class RegexPathFragment(Fragment):
    """Children whose attribute name fully matches a regular expression."""

    def __init__(self, pattern: "str | re.Pattern[str]") -> None:
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return self.pattern.fullmatch(name) is not None

    def __str__(self) -> str:
        return "[re:%s]" % self.pattern.pattern.replace("]", "\\]")


class ClassFragment(Fragment):
    """Children that are instances of a class (``isinstance``)."""

    def __init__(self, cls: type) -> None:
        if not isinstance(cls, type):
            raise TypeError("ClassFragment needs a class, got %r" % (cls,))
        self.cls = cls

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return isinstance(module, self.cls)

    def __str__(self) -> str:
        return "[cls:%s.%s]" % (self.cls.__module__, self.cls.__qualname__)


class PredicateFragment(Fragment):
    """Children for which ``fn(name, module)`` is true."""

    def __init__(self, fn: Callable[[str, torch.nn.Module], bool], text: str = "") -> None:
        self.fn = fn
        self.text = text

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return bool(self.fn(name, module))

    def __str__(self) -> str:
        return self.text or "[predicate:%s]" % getattr(self.fn, "__name__", "fn")


class InvertedFragment(Fragment):
    """``~fragment``: children the fragment does not match."""

    def __init__(self, fragment: Fragment) -> None:
        if isinstance(fragment, WildcardFragment) and fragment.match_multiple:
            raise ValueError("'**' cannot be negated")
        self.fragment = fragment

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return not self.fragment.match(name, module)

    def __str__(self) -> str:
        return "~%s" % self.fragment


class JointFragment(Fragment):
    """Children every fragment matches."""

    def __init__(self, *fragments: Fragment) -> None:
        self.fragments: Tuple[Fragment, ...] = fragments

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return all(f.match(name, module) for f in self.fragments)

    def __str__(self) -> str:
        return "&".join(str(f) for f in self.fragments)


class DisjointFragment(Fragment):
    """Children at least one fragment matches."""

    def __init__(self, *fragments: Fragment) -> None:
        self.fragments: Tuple[Fragment, ...] = fragments

    def match(self, name: str, module: torch.nn.Module) -> bool:
        return any(f.match(name, module) for f in self.fragments)

    def __str__(self) -> str:
        return "{%s}" % ", ".join(str(f) for f in self.fragments)

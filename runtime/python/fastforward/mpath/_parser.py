"""The mpath query parser and the registry of ``[tag:...]`` extensions.

Grammar (whitespace between tokens is ignored)::

    query    := ["/"] [element ("/" element)*] ["/"]
    element  := "~" fragment | fragment
    fragment := "**" | "*" | NAME | "[" TAG ":" RAW "]" | "{" query ("," query)* "}" | "&" NAME

NAME is an identifier or a run of digits; inside ``[...]`` a ``\\]`` stands for ``]``.
Errors raise ``MPathParseError`` with the query and the 0-based position.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Mapping, Optional

from fastforward.mpath.fragments import Fragment, InvertedFragment, PathFragment, WildcardFragment
from fastforward.mpath.selector import Selector, Step, _Alternatives

__all__ = [
    "MPathParseError",
    "MPathQueryContextualExtension",
    "MPathQueryExtension",
    "mpath_query_extension",
    "parse",
    "register_mpath_query_extension",
]


class MPathParseError(ValueError):
    """A query that cannot be parsed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, query: str = "", position: Optional[int] = None) -> None:
        self.query = query
        self.position = position
        text = message
        if position is not None:
            text = "%s at position %d in mpath query %r\n    %s\n    %s^" % (
                message, position, query, query, " " * position)
        super().__init__(text)


class MPathQueryExtension:
    """Base of ``[tag:raw]`` extensions: ``from_raw_string(raw) -> Selector | Fragment``."""

    @classmethod
    def from_raw_string(cls, raw: str) -> Any:
        raise NotImplementedError


class MPathQueryContextualExtension:
    """Base of extensions that need the caller's names:
    ``from_raw_string_with_context(raw, context) -> Selector | Fragment``."""

    @classmethod
    def from_raw_string_with_context(cls, raw: str, context: Mapping[str, Any]) -> Any:
        raise NotImplementedError


_EXTENSIONS: Dict[str, Any] = {}


class _ExtensionHandle:
    def __init__(self, tag: str, previous: Any) -> None:
        self.tag = tag
        self.previous = previous

    def remove(self) -> None:
        if self.previous is None:
            _EXTENSIONS.pop(self.tag, None)
        else:
            _EXTENSIONS[self.tag] = self.previous

    def __enter__(self) -> "_ExtensionHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_mpath_query_extension(tag: str, extension: Any, override: bool = False) -> _ExtensionHandle:
    """Make ``[tag:raw]`` call ``extension.from_raw_string[_with_context]``."""
    if not (hasattr(extension, "from_raw_string") or hasattr(extension, "from_raw_string_with_context")):
        raise TypeError(
            "mpath extension %r has neither from_raw_string nor from_raw_string_with_context" % (extension,)
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tag):
        raise ValueError("mpath extension tag %r is not an identifier" % tag)
    previous = _EXTENSIONS.get(tag)
    if previous is not None and not override:
        raise ValueError("mpath extension %r is already registered" % tag)
    _EXTENSIONS[tag] = extension
    return _ExtensionHandle(tag, previous)


def mpath_query_extension(tag: str, override: bool = False) -> Callable[[Any], Any]:
    """Class decorator registering an extension under ``tag``."""

    def decorate(cls: Any) -> Any:
        register_mpath_query_extension(tag, cls, override=override)
        return cls

    return decorate


# An identifier as Python has them (letters of any script), or a run of ASCII digits.
_NAME = re.compile(r"[^\W\d]\w*|[0-9]+")


class _Parser:
    def __init__(self, text: str, context: Optional[Mapping[str, Any]],
                 aliases: Optional[Mapping[str, Selector]]) -> None:
        self.text = text
        self.pos = 0
        self.context = context or {}
        self.aliases = aliases or {}

    def error(self, message: str, position: Optional[int] = None) -> MPathParseError:
        return MPathParseError(message, self.text, self.pos if position is None else position)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def query(self, closers: str) -> Selector:
        steps: List[Step] = []
        if self.peek() == "/":
            self.pos += 1
        while True:
            ch = self.peek()
            if ch == "" or ch in closers:
                break
            steps.append(self.element())
            ch = self.peek()
            if ch == "/":
                self.pos += 1
                continue
            if ch == "" or ch in closers:
                break
            raise self.error("expected '/' between fragments, found %r" % ch)
        return Selector.from_steps(steps)

    def element(self) -> Step:
        if self.peek() == "~":
            start = self.pos
            self.pos += 1
            step = self.fragment()
            if isinstance(step, _Alternatives) or (isinstance(step, WildcardFragment) and step.match_multiple):
                raise self.error("'~' applies to a single one-level fragment", start)
            return InvertedFragment(step)
        return self.fragment()

    def fragment(self) -> Step:
        self.skip_ws()
        start = self.pos
        text = self.text
        if text.startswith("**", start):
            self.pos += 2
            return WildcardFragment(match_multiple=True)
        if text.startswith("*", start):
            self.pos += 1
            return WildcardFragment(match_multiple=False)
        if text.startswith("[", start):
            return self.extension()
        if text.startswith("{", start):
            self.pos += 1
            options = [self.query(",}")]
            while self.peek() == ",":
                self.pos += 1
                options.append(self.query(",}"))
            if self.peek() != "}":
                raise self.error("unclosed '{' (opened at position %d)" % start)
            self.pos += 1
            return _Alternatives(options)
        if text.startswith("&", start):
            self.pos += 1
            m = _NAME.match(text, self.pos)
            if not m:
                raise self.error("expected an alias name after '&'")
            self.pos = m.end()
            alias = self.aliases.get(m.group())
            if alias is None:
                raise self.error("unknown alias %r" % m.group(), start)
            return _Alternatives((alias,)) if len(alias.steps) != 1 else alias.steps[0]
        m = _NAME.match(text, start)
        if not m:
            found = text[start] if start < len(text) else "end of query"
            raise self.error("unexpected %r" % found)
        self.pos = m.end()
        if self.pos < len(text) and text[self.pos] == ".":
            raise self.error("'.' is not allowed in a name; separate levels with '/'")
        return PathFragment(m.group())

    def extension(self) -> Step:
        start = self.pos
        self.pos += 1
        m = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:").match(self.text, self.pos)
        if not m:
            raise self.error("expected '[tag:...]'", start)
        tag = m.group(1)
        self.pos = m.end()
        raw: List[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unclosed '[' (opened at position %d)" % start)
            ch = self.text[self.pos]
            if ch == "\\" and self.text.startswith("]", self.pos + 1):
                raw.append("]")
                self.pos += 2
                continue
            if ch == "]":
                self.pos += 1
                break
            raw.append(ch)
            self.pos += 1
        extension = _EXTENSIONS.get(tag)
        if extension is None:
            raise self.error("unknown mpath extension %r (known: %s)" % (tag, ", ".join(sorted(_EXTENSIONS))), start)
        raw_text = "".join(raw).strip()
        try:
            if hasattr(extension, "from_raw_string_with_context"):
                made = extension.from_raw_string_with_context(raw_text, self.context)
            else:
                made = extension.from_raw_string(raw_text)
        except MPathParseError:
            raise
        except Exception as exc:
            raise self.error("[%s:%s]: %s" % (tag, raw_text, exc), start) from exc
        if isinstance(made, Fragment):
            return made
        if isinstance(made, Selector):
            return made.steps[0] if len(made.steps) == 1 else _Alternatives((made,))
        raise self.error("extension %r returned %r, not a Selector or Fragment" % (tag, made), start)


def parse(text: str, context: Optional[Mapping[str, Any]] = None,
          aliases: Optional[Mapping[str, Selector]] = None) -> Selector:
    """Parse ``text`` into a Selector (``context``: names for ``[cls:...]``)."""
    if not isinstance(text, str):
        raise TypeError("an mpath query is a string, got %r" % (text,))
    parser = _Parser(text, context, aliases)
    selector = parser.query("")
    if parser.peek() != "":
        raise parser.error("unexpected %r" % parser.peek())
    if not selector.steps:
        raise MPathParseError("empty mpath query", text, 0)
    return selector

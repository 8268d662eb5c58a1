"""Choosing quantizers by query and putting real quantizers in their place.

``find_quantizers(model, "**/[quantizer:parameter/weight]")`` returns a
``QuantizerCollection``; ``.initialize(LinearQuantizer, num_bits=8)`` replaces each member
(through its parent's attribute assignment, so the slot's tags stay). ``QuantizationConfig``
bundles several such rules; when rules overlap, the one added last wins.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from fastforward import mpath
from fastforward.exceptions import QuantizationError
from fastforward.mpath.fragments import Fragment, PredicateFragment
from fastforward.mpath.selector import FilterResult, MPathCollection, Selector, search_selector
from fastforward.nn.quantizer import Quantizer, Tag

__all__ = ["QuantizationConfig", "QuantizerCollection", "QuantizerTagSelectorFragment", "UnmatchedQueryWarning",
           "find_quantizers"]

_POLICIES = ("error", "skip", "overwrite")


class UnmatchedQueryWarning(UserWarning):
    """A query given to ``QuantizerCollection.initialize`` or a ``QuantizationConfig`` rule
    selected no quantizer (a mistyped name or tag, or a model without such slots)."""


def QuantizerTagSelectorFragment(*tags: Union[str, Tag]) -> Fragment:
    """A fragment matching quantizers whose metadata has every tag (``[quantizer:...]``)."""
    wanted = [Tag(t) for t in tags]

    def has_tags(name: str, module: torch.nn.Module) -> bool:
        md = getattr(module, "quant_metadata", None)
        return isinstance(module, Quantizer) and md is not None and all(t in md for t in wanted)

    return PredicateFragment(has_tags, "[quantizer:%s]" % ", ".join(t.symbol for t in wanted))


class QuantizerCollection(MPathCollection):
    """Search results that are all quantizers (stubs included)."""

    def __init__(self, root: torch.nn.Module, results: Optional[Sequence[FilterResult]] = None,
                 query: Optional[str] = None) -> None:
        self.query = query
        # results that are not quantizers are left out (as FastForward does; append refuses them)
        super().__init__(root, [r for r in results or () if isinstance(r.module, Quantizer)])

    def _make(self, results: Sequence[FilterResult]) -> "QuantizerCollection":
        return QuantizerCollection(self.root, results, self.query)

    def append(self, result: FilterResult) -> None:
        if not isinstance(result.module, Quantizer):
            raise TypeError("QuantizerCollection holds quantizers only, not %r" % type(result.module).__name__)
        super().append(result)

    def initialize(self, quantizer_factory: Union[type, Callable[[str, Quantizer], Quantizer]], *,
                   overwrite_policy: str = "error", safe: bool = True, **kwargs: Any) -> "QuantizerCollection":
        """Replace every member: a Quantizer class is called as ``cls(**kwargs)``, any other
        callable as ``factory(full_name, current_quantizer)``.

        ``overwrite_policy`` decides what happens to members that are already real
        (non-stub) quantizers: ``"error"`` (``QuantizationError``), ``"skip"`` or
        ``"overwrite"``. Returns the collection of the new quantizers.
        """
        if overwrite_policy not in _POLICIES:
            raise ValueError("overwrite_policy must be one of %s, got %r" % (", ".join(_POLICIES), overwrite_policy))
        if not self:
            # FastForward initializes nothing, silently; a warning still names a mistyped query
            warnings.warn(
                "nothing to initialize: %s matches no quantizer in %s"
                % ("query %r" % self.query if self.query is not None else "the collection",
                   type(self.root).__name__), UnmatchedQueryWarning, stacklevel=2)
            return QuantizerCollection(self.root, [], self.query)
        return self._apply(self._plan(quantizer_factory, overwrite_policy, kwargs), safe)

    def _plan(self, quantizer_factory: Any, overwrite_policy: str, kwargs: Dict[str, Any]
              ) -> List[Tuple[FilterResult, Quantizer]]:
        """The replacements ``initialize`` makes, built (every check and factory call done)
        before anything in the model changes."""
        make = _as_factory(quantizer_factory, kwargs)
        plan: List[Tuple[FilterResult, Quantizer]] = []
        for result in self:
            current = result.module
            if not isinstance(current, Quantizer):
                raise TypeError("%r is not a quantizer (%s)" % (result.full_name, type(current).__name__))
            if not current.is_stub():
                if overwrite_policy == "error":
                    raise QuantizationError(
                        "%r already holds %r; pass overwrite_policy='overwrite' or 'skip'"
                        % (result.full_name, current)
                    )
                if overwrite_policy == "skip":
                    continue
            new = make(result.full_name, current)
            if not isinstance(new, Quantizer):
                raise TypeError("the factory returned %r for %r, not a Quantizer" % (new, result.full_name))
            plan.append((result, new))
        return plan

    def _apply(self, plan: List[Tuple[FilterResult, Quantizer]], safe: bool) -> "QuantizerCollection":
        if safe:  # every slot checked before the first is written
            for result, _ in plan:
                result.check_unchanged()
        out: List[FilterResult] = []
        for result, new in plan:
            result.update_module(new, safe=safe)
            new.__dict__["_ff_path"] = result.full_name
            out.append(result._replace(module=new))
        return QuantizerCollection(self.root, out)


def _as_factory(factory: Any, kwargs: Dict[str, Any]) -> Callable[[str, Quantizer], Quantizer]:
    if isinstance(factory, type) and issubclass(factory, Quantizer):
        return lambda name, current: factory(**kwargs)
    if callable(factory):
        return factory
    raise TypeError("a quantizer factory is a Quantizer class or a callable (name, current), got %r" % (factory,))


def _as_selector(query: Union[str, Selector, Fragment], aliases: Optional[Mapping[str, Selector]] = None) -> Selector:
    if isinstance(query, Selector):
        return query
    if isinstance(query, Fragment):
        return Selector(None, query)
    if isinstance(query, str):
        return mpath.query(query, aliases=aliases)
    raise TypeError("a query is a string or an mpath Selector, got %r" % (query,))


def find_quantizers(root_module: torch.nn.Module, query: Union[str, Selector, Fragment], *,
                    aliases: Optional[Mapping[str, Selector]] = None) -> QuantizerCollection:
    """The quantizers (stubs included) of ``root_module`` that ``query`` selects."""
    selector = _as_selector(query, aliases)
    found = search_selector(selector, root_module)
    return QuantizerCollection(root_module, [r for r in found if isinstance(r.module, Quantizer)], str(selector))


class _Rule:
    def __init__(self, query: Union[str, Selector], selector: Selector, factory: Any, kwargs: Dict[str, Any]) -> None:
        self.query = query
        self.selector = selector
        self.factory = factory
        self.kwargs = kwargs

    def __repr__(self) -> str:
        name = getattr(self.factory, "__name__", repr(self.factory))
        if isinstance(self.factory, type) and issubclass(self.factory, Quantizer):
            args = ", ".join("%s=%r" % kv for kv in self.kwargs.items())
        else:  # a factory function: called with the slot's path and its current quantizer
            args = "<module_name>, <current_quantizer>"
        return "%s => %s(%s)" % (self.selector, name, args)


class QuantizationConfig:
    """Rules ``query => quantizer factory``, applied together by ``initialize(model)``."""

    def __init__(self) -> None:
        self.rules: List[_Rule] = []

    def add_rule(self, query: Union[str, Selector, Fragment], factory: Any, **kwargs: Any) -> "QuantizationConfig":
        """Add a rule (chainable). ``factory``: a Quantizer class (built with ``kwargs``) or
        ``factory(name, current) -> Quantizer``. String queries resolve ``[cls:...]`` names
        where ``add_rule`` is called."""
        _as_factory(factory, kwargs)  # validate now
        self.rules.append(_Rule(query, _as_selector(query), factory, kwargs))
        return self

    def precedence_score(self, rule: _Rule, result: FilterResult) -> int:
        """How strongly ``rule`` claims ``result`` (equal for all: the later rule wins)."""
        return 0

    def initialize(self, model: torch.nn.Module, *, safe: bool = True, overwrite_policy: str = "error",
                   allow_unmatched: bool = False) -> None:
        """Apply the rules to ``model``. A rule that selects no quantizer is a warning
        (``UnmatchedQueryWarning`` naming it; none with ``allow_unmatched``); the other
        rules apply."""
        winners: Dict[int, Tuple[int, int, _Rule, FilterResult]] = {}
        unmatched = []
        for index, rule in enumerate(self.rules):
            found = find_quantizers(model, rule.selector)
            if not found:
                unmatched.append(rule)
            for result in found:
                score = self.precedence_score(rule, result)
                key = id(result.module)
                best = winners.get(key)
                if best is None or (score, index) >= (best[0], best[1]):
                    winners[key] = (score, index, rule, result)
        if overwrite_policy not in _POLICIES:
            raise ValueError("overwrite_policy must be one of %s, got %r" % (", ".join(_POLICIES), overwrite_policy))
        if unmatched and not allow_unmatched:
            warnings.warn(
                "QuantizationConfig: no quantizer matches rule(s) %s in %s"
                % ("; ".join(repr(r) for r in unmatched), type(model).__name__), UnmatchedQueryWarning, stacklevel=2)
        by_rule: Dict[int, List[FilterResult]] = {}
        for _, index, rule, result in winners.values():
            by_rule.setdefault(index, []).append(result)
        # Every rule's replacements are made (policy checks and factories) before any is
        # assigned: an error leaves the model as it was, not half configured.
        plan: List[Tuple[FilterResult, Quantizer]] = []
        for index in sorted(by_rule):
            rule = self.rules[index]
            plan += QuantizerCollection(model, by_rule[index])._plan(rule.factory, overwrite_policy, rule.kwargs)
        if plan:
            QuantizerCollection(model, [])._apply(plan, safe)

    def __repr__(self) -> str:
        if not self.rules:
            return "%s()" % type(self).__name__
        return "%s(\n%s\n)" % (type(self).__name__, "\n".join("    %r" % r for r in self.rules))


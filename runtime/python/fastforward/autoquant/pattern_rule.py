"""PatternRule: a textual rewrite that autoquant applies to the source before analysing it.

``PatternRule.from_str("torch.nn.functional.{func}({a}, {b})", "my_own.{func}({a}, {b})")``
rewrites every two-argument call of a ``torch.nn.functional`` function into a call of
``my_own.<same function>``. The rules are applied by ffq (autoquant spec, section 8); this
class only carries the strings, and checks what can be checked without parsing Python.
"""

__all__ = ["PatternRule"]

_SEPARATOR = "=>"


class PatternRule:
    """A pattern, its replacement, and the dotted scope it is limited to (None: everywhere)."""

    def __init__(self, pattern, replacement, on=None):
        for what, text in (("pattern", pattern), ("replacement", replacement)):
            if not isinstance(text, str):
                raise TypeError("PatternRule %s must be a str, got %r" % (what, type(text)))
        if _SEPARATOR in pattern:
            raise ValueError("PatternRule pattern must not contain %r: %r" % (_SEPARATOR, pattern))
        self.pattern = pattern
        self.replacement = replacement
        self.on = on

    @classmethod
    def from_str(cls, pattern, replacement, on=None):
        return cls(pattern, replacement, on)

    def ffq_arguments(self):
        """Command-line arguments that make ``ffq autoquant`` apply this rule. A rule limited
        to a scope has none (``--replace`` cannot say ``on``): ``fastforward.autoquantize``
        passes such rules in an operator table's ``patterns:``."""
        if self.on is not None:
            raise NotImplementedError(
                "ffq's --replace cannot limit a pattern rule to a scope (on=%r); put it in an "
                "operator table's patterns: (fastforward.autoquantize does)" % (self.on,)
            )
        return ["--replace", self.pattern + _SEPARATOR + self.replacement]

    def __eq__(self, other):
        if not isinstance(other, PatternRule):
            return NotImplemented
        return (self.pattern, self.replacement, self.on) == (
            other.pattern,
            other.replacement,
            other.on,
        )

    def __hash__(self):
        return hash((self.pattern, self.replacement, self.on))

    def __repr__(self):
        return "PatternRule(pattern=%r, replacement=%r, on=%r)" % (
            self.pattern,
            self.replacement,
            self.on,
        )

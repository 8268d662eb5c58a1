"""fastforward.autoquant: the inputs of ``fastforward.autoquantize`` besides the model.

* ``OperatorTable`` / ``optable``: which operators autoquant quantizes (YAML tables);
* ``PatternRule``: textual rewrites applied to the model source before analysis.

The analysis itself is done by the ffq compiler; these classes describe what to pass it.
"""

from fastforward.autoquant import optable
from fastforward.autoquant.optable import OperatorTable
from fastforward.autoquant.pattern_rule import PatternRule

__all__ = ["OperatorTable", "PatternRule", "autoquantize", "optable"]


def __getattr__(name: str):  # noqa: ANN202 - module attribute hook
    # fastforward.autoquant.autoquantize is fastforward.autoquantize (loaded on first use:
    # fastforward._autoquantize imports this package).
    if name == "autoquantize":
        from fastforward._autoquantize import autoquantize

        return autoquantize
    raise AttributeError("module 'fastforward.autoquant' has no attribute %r" % name)

"""fastforward.autoquant: the inputs of ``fastforward.autoquantize`` besides the model.

* ``OperatorTable`` / ``optable``: which operators autoquant quantizes (YAML tables);
* ``PatternRule``: textual rewrites applied to the model source before analysis.

The analysis itself is done by the ffq compiler; these classes describe what to pass it.
"""

from fastforward.autoquant import optable
from fastforward.autoquant.optable import OperatorTable
from fastforward.autoquant.pattern_rule import PatternRule

__all__ = ["OperatorTable", "PatternRule", "optable"]

"""Operator tables for autoquantize.

ffq has a built-in default table (``optable/default.yaml`` in the ffq sources) and reads
further tables from YAML files (format: the autoquant spec, section 6.1). An
``OperatorTable`` names the tables ffq should use.
"""

import os

__all__ = ["OperatorTable", "STR_ALIASES_EXTENSIONS"]

# FastForward registers each fallback's dotted name as a string alias when this extension
# list is passed. ffq's tables are keyed by dotted names anyway, so this is accepted for
# compatibility and changes nothing.
STR_ALIASES_EXTENSIONS = ("str_aliases",)


class OperatorTable:
    """The operator tables ffq should use: optionally the built-in one, then YAML files.

    Later entries win over earlier ones (ffq tries the most recently added overload first).
    """

    def __init__(self, yaml_paths=(), include_default=True):
        self.yaml_paths = [os.fspath(path) for path in yaml_paths]
        self.include_default = include_default

    @classmethod
    def from_yaml(cls, source=None, alias_extensions=STR_ALIASES_EXTENSIONS):
        """The table in the YAML file ``source``, or ffq's default table when ``source`` is None.

        As in FastForward, a table loaded from a file replaces the default table; to extend
        the default table instead, pass the file path itself to ``autoquantize``.
        """
        del alias_extensions  # see STR_ALIASES_EXTENSIONS
        if source is None:
            return cls()
        return cls([source], include_default=False)

    def ffq_arguments(self):
        """Command-line arguments that make ``ffq autoquant`` use this table."""
        args = [] if self.include_default else ["--no-default-optable"]
        for path in self.yaml_paths:
            args += ["--optable", path]
        return args

    def __repr__(self):
        return "OperatorTable(yaml_paths=%r, include_default=%r)" % (
            self.yaml_paths,
            self.include_default,
        )

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
        self.entries = []  # operators added with add(), as YAML entries (spec section 6.1)

    def add(self, schema, fallback, dispatch_op=None, aliases=(), intermediate_quantizers=()):
        """Register an operator: ``schema`` in the table's mini-language (``"name(x: Quantized,
        ...) -> Quantized"``), ``fallback`` the float function calls of which autoquant
        rewrites (a callable or its dotted name), ``dispatch_op`` what the rewritten call
        invokes (a callable or dotted name; default ``fastforward.nn.functional.<name>``).

        Entries added later win over earlier ones and over the tables' entries.
        """
        if not isinstance(schema, str) or "(" not in schema:
            raise ValueError("OperatorTable.add: schema must be a string 'name(params) -> Type', got %r"
                             % (schema,))
        names = _dotted_names(fallback, "fallback")
        entry = {"op": schema, "fallback": names[0]}
        extra = [n for n in names[1:]] + [_dotted_names(a, "alias")[0] for a in aliases]
        if extra:
            entry["aliases"] = extra
        if dispatch_op is not None:
            entry["dispatch"] = _dotted_names(dispatch_op, "dispatch_op")[0]
        if intermediate_quantizers:
            entry["intermediate_quantizers"] = list(intermediate_quantizers)
        self.entries.append(entry)
        return self

    def add_alias(self, name, target):
        """Let the dotted name ``name`` denote the operator ``target`` (a callable or its dotted
        name): calls through ``name`` are rewritten as calls of ``target`` are, with every
        overload ``target`` has in this table (entries added with ``add`` and the tables it
        names). ``LookupError`` if no table has ``target``."""
        alias = _dotted_names(name, "alias")[0]
        targets = set(_dotted_names(target, "target"))
        found = [e for e in self._table_entries() if e.get("fallback") in targets
                 or targets & set(e.get("aliases") or ())]
        if not found:
            raise LookupError("OperatorTable.add_alias: no operator %s in this table (add it with add() first)"
                              % " / ".join(sorted(targets)))
        for entry in found:
            copy = {key: value for key, value in entry.items() if key != "aliases"}
            copy["fallback"] = alias
            if "dispatch" not in copy:  # the schema's default, named before the fallback changes
                copy["dispatch"] = "fastforward.nn.functional." + copy["op"].split("(", 1)[0].strip()
            self.entries.append(copy)
        return self

    def _table_entries(self):
        """Every entry this table holds, oldest first: the default table's, the YAML files',
        then those added here."""
        import yaml

        paths = []
        if self.include_default:
            from fastforward import _paths

            default = _paths.default_optable_path()
            if default is None:
                raise LookupError("OperatorTable.add_alias: the default operator table is not installed")
            paths.append(default)
        paths += self.yaml_paths
        entries = []
        for path in paths:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or []
            entries += [e for e in (data.get("operators") or [] if isinstance(data, dict) else data) if isinstance(e, dict)]
        return entries + list(self.entries)

    def to_yaml(self):
        """The entries added with ``add`` as a YAML table (a list of operator entries)."""
        import yaml

        return yaml.safe_dump(self.entries, sort_keys=False, width=1000)

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

    def ffq_arguments(self, scratch_dir=None):
        """Command-line arguments that make ``ffq autoquant`` use this table. Entries added
        with ``add`` are written to a YAML file in ``scratch_dir`` (which must outlive the
        ffq run)."""
        args = [] if self.include_default else ["--no-default-optable"]
        for path in self.yaml_paths:
            args += ["--optable", path]
        if self.entries:
            if scratch_dir is None:
                raise ValueError("OperatorTable.ffq_arguments: entries added with add() need a scratch_dir")
            path = os.path.join(scratch_dir, "optable-%d.yaml" % id(self))
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.to_yaml())
            args += ["--optable", path]
        return args

    def __repr__(self):
        return "OperatorTable(yaml_paths=%r, include_default=%r, added=%d)" % (
            self.yaml_paths,
            self.include_default,
            len(self.entries),
        )


# Where a torch function's public names are looked up, in order of preference: code usually
# calls ``F.bilinear``, and ``torch.nn.functional.bilinear`` is the same object as
# ``torch.bilinear``, so both names are entered (the second as an alias).
_TORCH_NAMESPACES = ("torch.nn.functional", "torch", "torch.Tensor")


def _dotted_names(obj, what):
    """The dotted names under which ``obj`` (a callable or a dotted-name string) is called."""
    if isinstance(obj, str):
        if not obj or any(not part.isidentifier() for part in obj.split(".")):
            raise ValueError("OperatorTable.add: %s %r is not a dotted name" % (what, obj))
        return [obj]
    if not callable(obj):
        raise TypeError("OperatorTable.add: %s must be a callable or a dotted name, got %r" % (what, obj))
    import sys

    names = []
    torch = sys.modules.get("torch")
    name = getattr(obj, "__name__", None)
    if torch is not None and name:
        holders = {"torch.nn.functional": torch.nn.functional, "torch": torch, "torch.Tensor": torch.Tensor}
        names = ["%s.%s" % (n, name) for n in _TORCH_NAMESPACES if getattr(holders[n], name, None) is obj]
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not names and module and qualname and qualname.isidentifier():
        names.append("%s.%s" % (module, qualname))
    if not names:
        raise ValueError("OperatorTable.add: cannot name %s %r; pass its dotted name as a string" % (what, obj))
    return names

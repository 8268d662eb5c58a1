"""fastforward.autoquantize: run the ffq compiler on the source of a model's class.

ffq never imports the model: it reads the file that defines the model's class and writes the
source of the quantized counterparts. This module finds that file and the ffq executable,
runs ``ffq autoquant``, and returns the generated source.
"""

import ast
import atexit
import importlib.util
import inspect
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tokenize

from fastforward import _paths
from fastforward.autoquant.optable import OperatorTable
from fastforward.autoquant.pattern_rule import PatternRule

__all__ = ["autoquantize", "find_ffq", "FfqError"]


class FfqError(RuntimeError):
    """ffq failed; the message includes its exit status and its diagnostics."""


def find_ffq():
    """Path of the ffq executable.

    $FFQ_BINARY; else the ``ffq`` installed with this package (``pip install``); else, when
    fastforward is read from a source checkout, that checkout's Meson build (``build/``,
    or meson-python's ``build/cp3XX/`` of an editable install).
    """
    binary = _paths.ffq_binary_path()
    if binary:
        return binary
    if _paths.in_checkout():
        where = "build it in this checkout (./scripts/demo builds build/src/ffq)"
    else:
        where = "reinstall the package (pip install ffq installs the ffq command)"
    raise FfqError(
        "cannot find the ffq executable: set FFQ_BINARY to its path, or %s" % where
    )


def autoquantize(
    model,
    output_path=None,
    use_type_inference=True,
    force_overwrite=False,
    operator_table=None,
    replacement_patterns=None,
    auto_import=False,
    stub_tags=None,
):
    """Generate the quantized counterparts of ``model``'s classes and return their source (or,
    with ``auto_import=True``, the imported generated module).

    Given a class, ffq converts that class (and the submodule classes it finds in its
    source). Given a live model, every class that ``model.modules()`` contains is converted
    as well, even when the model was put together by factory functions that ffq cannot
    follow statically: ffq runs once per source file (the model's own file first) with a
    ``--class`` for each of that file's classes not converted by an earlier run, and the
    generated modules are joined into one source (a definition repeated identically is left
    out, a different one under a taken name is renamed). Classes of torch itself, quantized classes, and classes defined inside
    functions are left to what ffq finds on its own.

    Args:
        model: an ``nn.Module`` instance (or its class). Its class must be defined at module
            level in a Python file.
        output_path: also write the source there (atomically). A path that does not end in
            ``.py`` is a package directory: the source is written as its ``__init__.py``
            (the directories are made).
        use_type_inference: when False, every unannotated value may be a tensor.
        force_overwrite: allow replacing an existing ``output_path``.
        operator_table: an ``OperatorTable``, a YAML file path (extra entries over the
            default table), or a list of these; None uses the default table.
        replacement_patterns: ``PatternRule``s applied to the source before analysis.
        auto_import: import the generated code (which registers its quantized classes for
            ``quantize_model``) and return the module. Without ``output_path`` the code is
            written to a file in a temporary directory, removed when the interpreter exits.
        stub_tags: True tags every stub with what it quantizes
            (``QuantizerStub(weight_quantizer=True)``, ...; ffq's ``--stub-tags``); False writes
            plain ``QuantizerStub()`` stubs, FastForward's own output (``--no-stub-tags``); None
            leaves it to ffq, whose default is plain stubs unless ``stub-tags = true`` is set in
            the ``[tool.ffq]`` of the nearest ``pyproject.toml``. The runtime infers the tags of
            plain stubs from their names.

    Raises:
        FfqError: ffq is missing or failed (the message carries its diagnostics).
    """
    cls = model if isinstance(model, type) else type(model)
    directory = None
    if auto_import and output_path is None:
        # The imported module's file must outlive this call (tracebacks and inspect read
        # it); it is removed when the interpreter exits, or now if nothing was imported.
        directory = tempfile.mkdtemp(prefix="ffq-autoquant-")
        output_path = os.path.join(directory, "quantized_%s.py" % cls.__name__.lower())
    try:
        with tempfile.TemporaryDirectory(prefix="ffq-args-") as scratch:
            text = _autoquantize(
                model, cls, output_path, use_type_inference, force_overwrite, operator_table,
                replacement_patterns, scratch, stub_tags,
            )
        if auto_import:
            module = _import_generated(_output_file(output_path))
    except BaseException:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    if directory is not None:
        atexit.register(shutil.rmtree, directory, True)
    return module if auto_import else text


def _autoquantize(
    model, cls, output_path, use_type_inference, force_overwrite, operator_table,
    replacement_patterns, scratch, stub_tags=None,
):
    # ffq searches the site-packages of this interpreter, the one the model lives in
    options = ["--python", sys.executable] if sys.executable else []
    if not use_type_inference:
        options.append("--no-type-inference")
    if stub_tags is not None:
        options.append("--stub-tags" if stub_tags else "--no-stub-tags")
    options += _operator_table_arguments(operator_table, scratch)
    options += _pattern_arguments(replacement_patterns, scratch)
    groups = _classes_by_file(cls, () if isinstance(model, type) else model.modules())
    if len(groups) == 1:
        path, module, names = groups[0]
        args = [find_ffq(), "autoquant", path, "--module", module]
        for name in names:
            args += ["--class", name]
        if output_path is not None:
            args += ["--output", os.fspath(output_path)]
            if force_overwrite:
                args.append("--force")
        text = _run_ffq(args + options, cls)
        if output_path is None:
            return text
        with open(_output_file(output_path), encoding="utf-8") as generated:
            return generated.read()
    output_file = None if output_path is None else _output_file(output_path)
    if output_file is not None and os.path.exists(output_file) and not force_overwrite:
        raise FfqError("%s exists (pass force_overwrite=True to replace it)" % output_file)
    parts, done = [], set()
    for path, module, names in groups:
        # a class an earlier run already converted (ffq follows submodules into other files)
        # is not converted a second time
        names = [name for name in names if (module, name) not in done]
        if not names:
            continue
        args = [find_ffq(), "autoquant", path, "--module", module]
        for name in names:
            args += ["--class", name]
        parts.append(_run_ffq(args + options, cls))
        done |= _converted_classes(parts[-1], module)
    text = _join_modules(parts)
    if output_file is not None:
        if output_file != os.fspath(output_path):
            os.makedirs(os.path.dirname(output_file), exist_ok=True)
        tmp = "%s.tmp%d" % (output_file, os.getpid())
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, output_file)
    return text


def _output_file(output_path):
    """The file an ``output_path`` names: itself when it ends in ``.py``, else the
    ``__init__.py`` of that package directory (as ``ffq autoquant -o`` writes it)."""
    path = os.fspath(output_path)
    return path if path.endswith(".py") else os.path.join(path, "__init__.py")


def _import_generated(path):
    """Import the generated file at ``path`` as a module named after the file (replacing an
    earlier import of the same name, so a regenerated file takes effect)."""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    old = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if old is None:
            del sys.modules[name]
        else:
            sys.modules[name] = old
        raise
    return module


def _run_ffq(args, cls):
    try:
        completed = subprocess.run(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True
        )
    except OSError as error:  # e.g. FFQ_BINARY names a missing file
        raise FfqError("cannot run ffq (%s): %s" % (args[0], error)) from None
    if completed.returncode != 0:
        raise FfqError(
            "ffq autoquant failed (exit status %d) for %s.%s:\n%s"
            % (completed.returncode, cls.__module__, cls.__qualname__, completed.stderr)
        )
    if completed.stderr:
        sys.stderr.write(completed.stderr)  # warnings, e.g. code left verbatim
    return completed.stdout


def _classes_by_file(cls, modules):
    """[(source file, module name, [class names])]: ``cls``'s file first, then the files of
    the other classes among ``modules`` in the order they appear."""
    from fastforward.nn.quantized_module import QuantizedModule

    groups = {}
    order = []

    def add(c, required):
        if not required:
            if issubclass(c, QuantizedModule) or "<locals>" in c.__qualname__:
                return
            if c.__module__ == "torch" or c.__module__.startswith("torch."):
                return
            try:
                path = inspect.getsourcefile(c)
            except (TypeError, OSError):
                return
            if path is None:
                return
        else:
            path = _source_file(c)
        key = (path, c.__module__)
        if key not in groups:
            groups[key] = []
            order.append(key)
        if c.__name__ not in groups[key]:
            groups[key].append(c.__name__)

    add(cls, True)
    for module in modules:
        add(type(module), False)
    return [(path, module, groups[(path, module)]) for path, module in order]


def _converted_classes(text, module):
    """{(module, class name)} of the float classes that ``text`` (ffq's output for a file of
    module ``module``) defines quantized counterparts of: the bases of its classes, resolved
    through its imports."""
    tree = ast.parse(text)
    imported = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
    done = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if isinstance(base, ast.Name):
                    done.add(imported.get(base.id, (module, base.id)))
    return done


def _top_level_definitions(text):
    """[(name, first line index, end line index, source text)] of the functions and classes
    ``text`` defines at module level, decorators included, in order."""
    lines = text.splitlines(True)
    found = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            found.append((node.name, first, node.end_lineno, "".join(lines[first : node.end_lineno])))
    return found


def _rename(text, renames):
    """``text`` with every name in ``renames`` replaced (not attributes: ``x.name`` stays)."""
    out, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and token.string in renames and previous != ".":
            token = token._replace(string=renames[token.string])
        out.append(token)
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = token.string
    return tokenize.untokenize(out)


def _without_redefinitions(text, defined):
    """A later part of a joined module, made safe to follow the earlier ones: a function or
    class the earlier parts already define identically is dropped, and one that differs
    under a taken name (two files' helpers both generated as ``quantized_helper``) is renamed
    throughout this part, so one file's helper never replaces another's. ``defined`` (name:
    source) grows by what this part keeps."""
    own = {name: source for name, _, _, source in _top_level_definitions(text)}
    renames = {}
    for name, source in own.items():
        if name in defined and defined[name] != source:
            k = 2
            while "%s_%d" % (name, k) in defined or "%s_%d" % (name, k) in own:
                k += 1
            renames[name] = "%s_%d" % (name, k)
    if renames:
        text = _rename(text, renames)
    drop = set()
    for name, first, end, source in _top_level_definitions(text):
        if defined.get(name) == source:
            drop.update(range(first, end))
        else:
            defined[name] = source
    return "".join(line for i, line in enumerate(text.splitlines(True)) if i not in drop)


def _join_modules(parts):
    """One module from several generated ones: `from __future__` lines go first, and a later
    part never redefines what an earlier one defined (see _without_redefinitions)."""
    future, bodies, defined = [], [], {}
    for text in parts:
        text = _without_redefinitions(text, defined)
        lines = text.splitlines(True)
        kept = [line for line in lines if not line.startswith("from __future__ import")]
        future += [line for line in lines if line.startswith("from __future__ import") and line not in future]
        bodies.append("".join(kept).strip("\n") + "\n")
    return "".join(future) + ("\n" if future else "") + "\n\n".join(bodies)


def _source_file(cls):
    """The Python file that defines ``cls``."""
    if "<locals>" in cls.__qualname__:
        raise ValueError(
            "autoquantize needs a class defined at module level, not %s" % cls.__qualname__
        )
    try:
        path = inspect.getsourcefile(cls)
    except (TypeError, OSError) as error:
        raise ValueError(
            "cannot find the source file of %s: %s" % (cls.__qualname__, error)
        ) from None
    if path is None:
        raise ValueError("cannot find the source file of %s" % cls.__qualname__)
    return path


def _pattern_arguments(replacement_patterns, scratch_dir):
    """ffq arguments for PatternRules: one --replace each, or, when a rule is limited to a
    scope (``on``), which the command line cannot say, all of them in order as the
    ``patterns:`` of an operator table without operators."""
    rules = list(replacement_patterns or ())
    for rule in rules:
        if not isinstance(rule, PatternRule):
            raise TypeError("replacement_patterns must hold PatternRule objects, got %r" % (rule,))
    if all(rule.on is None for rule in rules):
        return [arg for rule in rules for arg in rule.ffq_arguments()]
    lines = ["operators: []", "patterns:"]
    for rule in rules:
        lines.append("  - pattern: %s" % json.dumps(rule.pattern, ensure_ascii=False))
        lines.append("    replacement: %s" % json.dumps(rule.replacement, ensure_ascii=False))
        if rule.on is not None:
            lines.append("    on: %s" % json.dumps(str(rule.on), ensure_ascii=False))
    path = os.path.join(scratch_dir, "ffq-pattern-rules.yaml")
    with open(path, "w", encoding="utf-8") as table:
        table.write("\n".join(lines) + "\n")
    return ["--optable", path]


def _operator_table_arguments(operator_table, scratch_dir):
    """ffq arguments for an OperatorTable, a YAML path, or a list of either."""
    if operator_table is None:
        return []
    if isinstance(operator_table, (OperatorTable, str, os.PathLike)):
        operator_table = [operator_table]
    args = []
    for table in operator_table:
        if isinstance(table, OperatorTable):
            args += table.ffq_arguments(scratch_dir)
        elif isinstance(table, (str, os.PathLike)):
            args += ["--optable", os.fspath(table)]
        else:
            raise TypeError(
                "operator_table must be an OperatorTable or a YAML path, got %r" % (table,)
            )
    return args

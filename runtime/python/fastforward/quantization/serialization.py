"""Saving and loading quantization state.

Two ways, both lossless:

* ``model.state_dict()`` of a quantized model carries, for every quantized module, a small
  ``_extra_state`` entry describing its real quantizers (class and constructor arguments,
  "recipes"). Loading such a state dict into a freshly ``quantize_model``-ed copy of the
  float model (quantizers still stubs) first builds the quantizers from their recipes, then
  loads their parameters, so the copy computes bitwise what the original did.
* ``save_quantization_state(model, ...)`` / ``load_quantization_state(model, ...)`` write
  and read only the quantizers: ``model.safetensors`` (the quantizer state dict, safetensors
  format) and ``config.yaml`` (version, quantizers, the tensor file's SHA-256) under
  ``<cache>/quantization-state--<name>/<tag>/``. In ``config.yaml`` each quantizer is a
  ``!ff.obj`` mapping (``fastforward.serialization``: class, constructor arguments, plain
  attributes); a quantizer that cannot be described that way (a frozen weight quantizer,
  whose constructor takes tensors) is a plain recipe mapping with a ``class`` key, and a
  quantizer shared by several slots is written once, the other paths naming it with
  ``shared_with``. Files written by earlier versions (JSON) still load. Files are written to a temporary file and
  renamed into place. Loading checks everything (format, checksum, paths, shapes) before it
  touches the model: on any error the model is left as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch

from fastforward.cache import get_assets_path
from fastforward.exceptions import QuantizationError
from fastforward.nn.quantizer import Quantizer, QuantizerStub
from fastforward.quantization.granularity import Granularity, PerBlock, PerChannel, PerTensor, PerTile
from fastforward.serialization import from_plain, to_plain

__all__ = [
    "build_quantizer",
    "load_quantization_state",
    "load_quantized_model",
    "quantizer_recipe",
    "read_safetensors",
    "save_quantization_state",
    "save_quantized_model",
    "write_safetensors",
]

VERSION = "1.0"

# --- safetensors -------------------------------------------------------------------------------

_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}
_FROM_NAME = {v: k for k, v in _DTYPES.items()}


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.view(torch.uint8).numpy().tobytes()


def write_safetensors(tensors: Mapping[str, torch.Tensor], path: Union[str, os.PathLike],
                      metadata: Optional[Mapping[str, str]] = None) -> None:
    """Write ``tensors`` to ``path`` in the safetensors format, atomically."""
    header: Dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks: List[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _DTYPES:
            raise TypeError("safetensors: cannot store %r of dtype %s" % (name, t.dtype))
        data = _tensor_bytes(t)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    _atomic_write(path, [struct.pack("<Q", len(head)), head] + chunks)


def read_safetensors(path: Union[str, os.PathLike]) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """(tensors, metadata) from a safetensors file; ``ValueError`` if it is truncated or
    malformed."""
    with open(path, "rb") as f:
        blob = f.read()
    where = os.fspath(path)
    if len(blob) < 8:
        raise ValueError("%s: not a safetensors file (truncated: %d bytes)" % (where, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("%s: truncated safetensors header (%d bytes announced, %d present)" % (where, n, len(blob) - 8))
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("%s: corrupted safetensors header: %s" % (where, exc)) from None
    if not isinstance(header, dict):
        raise ValueError("%s: corrupted safetensors header" % where)
    body = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors: Dict[str, torch.Tensor] = {}
    end_max = 0
    for name, info in header.items():
        try:
            dtype = _FROM_NAME[info["dtype"]]
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(v) for v in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("%s: corrupted entry %r in safetensors header" % (where, name)) from None
        count = 1
        for d in shape:
            count *= d
        if end < begin or end > len(body) or end - begin != count * _element_size(dtype):
            raise ValueError("%s: tensor %r does not fit the file (truncated or corrupted)" % (where, name))
        end_max = max(end_max, end)
        raw = bytearray(body[begin:end])
        storage_dtype = torch.uint8 if dtype == torch.bool else dtype
        t = torch.frombuffer(raw, dtype=storage_dtype) if raw else torch.empty(0, dtype=storage_dtype)
        tensors[name] = t.reshape(shape).to(dtype).clone()
    if end_max != len(body):
        raise ValueError("%s: %d bytes of data, the header accounts for %d (truncated or corrupted)"
                         % (where, len(body), end_max))
    return tensors, {str(k): str(v) for k, v in metadata.items()}


def _atomic_write(path: Union[str, os.PathLike], chunks: List[bytes]) -> None:
    """Write to a temporary file in the same directory, fsync, rename over ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            for c in chunks:
                f.write(c)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --- recipes: how to rebuild a quantizer ----------------------------------------------------------


def _granularity_recipe(g: Granularity) -> Dict[str, Any]:
    if isinstance(g, PerTensor):
        return {"type": "PerTensor"}
    if isinstance(g, PerChannel):
        return {"type": "PerChannel", "channel_dim": list(g.channel_dims)}
    if isinstance(g, PerBlock):
        return {"type": "PerBlock", "block_dims": list(g.block_dims), "block_sizes": list(g.block_sizes),
                "per_channel_dims": list(g.per_channel_dims), "strict_blocks": g.strict_blocks}
    if isinstance(g, PerTile):
        return {"type": "PerTile", "tile_shape": list(g.tile_shape)}
    raise TypeError("cannot serialise granularity %r" % (g,))


def _granularity(recipe: Mapping[str, Any]) -> Granularity:
    kind = recipe.get("type")
    if kind == "PerTensor":
        return PerTensor()
    if kind == "PerChannel":
        return PerChannel(tuple(recipe["channel_dim"]))
    if kind == "PerBlock":
        return PerBlock(tuple(recipe["block_dims"]), tuple(recipe["block_sizes"]),
                        tuple(recipe["per_channel_dims"]), recipe["strict_blocks"])
    if kind == "PerTile":
        return PerTile(tuple(recipe["tile_shape"]))
    raise ValueError("unknown granularity %r" % (kind,))


def _dtype_name(dtype: Optional[torch.dtype]) -> Optional[str]:
    return None if dtype is None else str(dtype).replace("torch.", "")


def _dtype(name: Optional[str]) -> Optional[torch.dtype]:
    return None if name is None else getattr(torch, name)


def quantizer_recipe(q: Quantizer) -> Dict[str, Any]:
    """A JSON-able description from which ``build_quantizer`` rebuilds ``q`` (parameters
    excluded: they travel in the state dict)."""
    from fastforward.nn.dynamic_linear_quantizer import DynamicLinearQuantizer
    from fastforward.nn.linear_quantizer import LinearQuantizer
    from fastforward.nn.qformat_quantizer import QFormatQuantizer
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    if type(q) is LinearQuantizer:
        return {"class": "LinearQuantizer", "num_bits": q.num_bits, "symmetric": q.symmetric,
                "allow_one_sided": q.allow_one_sided, "granularity": _granularity_recipe(q.granularity),
                "quantized_dtype": _dtype_name(q.quantized_dtype)}
    if type(q) is DynamicLinearQuantizer:
        if q.parameter_inference_fn is not None:
            raise TypeError("cannot serialise a DynamicLinearQuantizer with a parameter_inference_fn")
        return {"class": "DynamicLinearQuantizer", "num_bits": q.num_bits, "symmetric": q.symmetric,
                "allow_one_sided": q.allow_one_sided, "granularity": _granularity_recipe(q.granularity),
                "quantized_dtype": _dtype_name(q.quantized_dtype)}
    if type(q) is QFormatQuantizer:
        return {"class": "QFormatQuantizer", "num_bits": q.num_bits, "fixed_frac_bits": q.fixed_frac_bits,
                "granularity": _granularity_recipe(q.granularity)}
    if type(q) is FrozenWeightQuantizer:
        return {"class": "FrozenWeightQuantizer", "num_bits": q.num_bits,
                "granularity": _granularity_recipe(q.granularity), "float_dtype": _dtype_name(q.float_dtype),
                "int_dtype": _dtype_name(q.int_weight.dtype), "shape": list(q.int_weight.shape),
                "scale_shape": list(q.scale.shape), "has_offset": q.offset is not None}
    # Any other quantizer (a user's subclass, ...): its class, recorded constructor arguments
    # and plain attributes (fastforward.serialization); the class must be importable by the
    # time the state loads.
    try:
        return {"class": "object", "object": to_plain(q)}
    except TypeError as exc:
        raise TypeError("cannot serialise quantizer %s: %s" % (type(q).__qualname__, exc)) from None


def build_quantizer(recipe: Mapping[str, Any]) -> Quantizer:
    """The quantizer a recipe describes (lazy parameters; load its state next)."""
    from fastforward.nn.dynamic_linear_quantizer import DynamicLinearQuantizer
    from fastforward.nn.linear_quantizer import LinearQuantizer
    from fastforward.nn.qformat_quantizer import QFormatQuantizer
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    kind = recipe.get("class")
    if kind == "LinearQuantizer":
        return LinearQuantizer(recipe["num_bits"], symmetric=recipe["symmetric"],
                               allow_one_sided=recipe["allow_one_sided"],
                               granularity=_granularity(recipe["granularity"]),
                               quantized_dtype=_dtype(recipe.get("quantized_dtype")))
    if kind == "DynamicLinearQuantizer":
        return DynamicLinearQuantizer(recipe["num_bits"], symmetric=recipe["symmetric"],
                                      allow_one_sided=recipe["allow_one_sided"],
                                      granularity=_granularity(recipe["granularity"]),
                                      quantized_dtype=_dtype(recipe.get("quantized_dtype")))
    if kind == "QFormatQuantizer":
        q = QFormatQuantizer(recipe["num_bits"], 0 if recipe["fixed_frac_bits"] else None,
                             granularity=_granularity(recipe["granularity"]))
        return q
    if kind == "FrozenWeightQuantizer":
        scale_shape = recipe.get("scale_shape", [1])
        return FrozenWeightQuantizer(
            torch.zeros(recipe["shape"], dtype=_dtype(recipe["int_dtype"])),
            torch.zeros(scale_shape), torch.zeros(scale_shape) if recipe["has_offset"] else None,
            recipe["num_bits"], _granularity(recipe["granularity"]), _dtype(recipe["float_dtype"]))
    if kind == "object":
        built = from_plain(recipe.get("object"))
        if not isinstance(built, Quantizer):
            raise ValueError("saved state describes %r, not a quantizer" % (built,))
        return built
    raise ValueError("unknown quantizer class %r in saved state" % (kind,))


# --- save / load ---------------------------------------------------------------------------------


def _identifier(model: torch.nn.Module, name_or_path: Optional[str]) -> str:
    if name_or_path is not None:
        return str(name_or_path)
    config = getattr(model, "config", None)
    name = getattr(config, "name_or_path", None)
    if not name:
        raise RuntimeError("the model has no config.name_or_path; pass name_or_path=...")
    return str(name)


def _state_dir(model: torch.nn.Module, tag: str, name_or_path: Optional[str],
               cache_dir: Optional[Union[str, os.PathLike]]) -> Tuple[Path, str]:
    ident = _identifier(model, name_or_path)
    return get_assets_path("quantization-state/" + ident, tag, cache_dir), ident


def _quantizer_slots(model: torch.nn.Module) -> Dict[str, Tuple[torch.nn.Module, str, Quantizer]]:
    """path -> (parent, attribute, quantizer) for every quantizer slot (stubs included)."""
    out: Dict[str, Tuple[torch.nn.Module, str, Quantizer]] = {}
    for pname, parent in model.named_modules():
        for attr, child in parent._modules.items():
            if isinstance(child, Quantizer):
                path = (pname + "." if pname else "") + attr
                out.setdefault(path, (parent, attr, child))
    return out


def _collect_quantizers(model: torch.nn.Module, allow_lazy_params: bool
                        ) -> Tuple[Dict[str, Any], Dict[str, List[str]], Dict[str, torch.Tensor]]:
    """(config entries by path, lazy parameter keys by path, tensors by "path.key") of the
    model's non-stub quantizers. An entry is the quantizer itself (dumped as ``!ff.obj``),
    a recipe mapping, or ``{"shared_with": path}``."""
    entries: Dict[str, Any] = {}
    lazy_keys: Dict[str, List[str]] = {}
    tensors: Dict[str, torch.Tensor] = {}
    seen: Dict[int, str] = {}
    for path, (_, _, q) in sorted(_quantizer_slots(model).items()):
        if q.is_stub():
            continue
        if id(q) in seen:
            entries[path] = {"shared_with": seen[id(q)]}
            continue
        seen[id(q)] = path
        if getattr(q, "has_uninitialized_params", False) and not allow_lazy_params:
            raise ValueError("%s at %r has uninitialized parameters (calibrate it first, or pass "
                             "allow_lazy_params=True)" % (type(q).__name__, path))
        entries[path] = _config_entry(q)
        lazy = []
        for key, value in _own_tensors(q):
            if isinstance(value, torch.nn.parameter.UninitializedTensorMixin):
                lazy.append(key)
                continue
            tensors[path + "." + key] = value.detach()
        if lazy:
            lazy_keys[path] = lazy
    return entries, lazy_keys, tensors


def _tensor_map(entries: Mapping[str, Any], lazy_keys: Mapping[str, List[str]],
                tensors: Mapping[str, torch.Tensor]) -> Dict[str, str]:
    """The safetensors metadata naming each quantizer's tensors, as the spec's format has it:
    ``{path: "param=tensor_key,..."}``, a shared quantizer's other paths pointing at the keys
    stored under its first path, lazy parameters as ``param=tensor_key::lazy`` (not stored).
    Readers need not use it (the loader reads the tensors by key); other tools can."""
    out: Dict[str, str] = {}
    for path, entry in entries.items():
        owner = entry["shared_with"] if isinstance(entry, Mapping) and "shared_with" in entry else path
        stored = sorted(k[len(owner) + 1:] for k in tensors if k.startswith(owner + "."))
        parts = ["%s=%s.%s" % (k, owner, k) for k in stored]
        parts += ["%s=%s.%s::lazy" % (k, owner, k) for k in lazy_keys.get(owner, [])]
        out[path] = ",".join(parts)
    return out


def _config_entry(q: Quantizer) -> Any:
    """``q`` itself when YAML can describe it as ``!ff.obj`` (its constructor arguments and
    attributes are plain data), else its recipe (``TypeError`` if it has none)."""
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    if _yaml() is not None and not isinstance(q, FrozenWeightQuantizer):
        try:
            plain = to_plain(q)
        except TypeError:
            plain = None
        if plain is not None:
            try:  # a built-in quantizer changed after construction in a way its attributes miss
                recipe = quantizer_recipe(q)
            except TypeError:
                recipe = None
            if recipe is None or recipe.get("class") == "object" or quantizer_recipe(from_plain(plain)) == recipe:
                return q
    return quantizer_recipe(q)


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:  # without PyYAML the config is written as JSON (also valid YAML)
        return None
    return yaml


def _dump_config(config: Dict[str, Any]) -> bytes:
    yaml = _yaml()
    if yaml is None:
        plain = dict(config, quantizers={p: to_plain(e) if isinstance(e, Quantizer) else e
                                         for p, e in config["quantizers"].items()})
        return json.dumps(plain, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    class Dumper(yaml.SafeDumper):  # an object met twice is written out twice, not as &id001 / *id001
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(config, Dumper=Dumper, sort_keys=False, default_flow_style=False).encode("utf-8")


def _read_config(path: Path) -> Any:
    """config.yaml as data: ``!ff.obj`` entries become quantizers (their classes must be
    imported), JSON from earlier versions is read as it was written."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError:
        pass
    yaml = _yaml()
    if yaml is None:
        raise ValueError("it is YAML and PyYAML is not installed")
    import fastforward.serialization  # noqa: F401  (registers the !ff.obj constructors)
    from fastforward.nn import linear_quantizer  # noqa: F401  (built-in quantizer classes imported)

    try:
        return yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def _make_directory(directory: Path) -> None:
    """Create ``directory`` (and its parents); ``ValueError`` when a file is in the way (the
    directory itself or one of its parents), as the spec has it, not the OS's error."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ValueError("cannot create the directory %s: a file is in the way (%s)" % (directory, exc)) from exc


def save_quantization_state(model: torch.nn.Module, *, tag: str = "main", name_or_path: Optional[str] = None,
                            cache_dir: Optional[Union[str, os.PathLike]] = None,
                            allow_lazy_params: bool = False) -> Path:
    """Write the model's (non-stub) quantizers; returns the path of ``config.yaml``."""
    directory, ident = _state_dir(model, tag, name_or_path, cache_dir)
    entries, lazy, tensors = _collect_quantizers(model, allow_lazy_params)
    _make_directory(directory)
    tensor_path = directory / "model.safetensors"
    write_safetensors(tensors, tensor_path, dict(_tensor_map(entries, lazy, tensors), format="pt",
                                                 fastforward_version=_version()))
    digest = hashlib.sha256(tensor_path.read_bytes()).hexdigest()
    config = {"version": VERSION, "name_or_path": ident, "transformers_version": _transformers_version(),
              "fastforward_version": _version(), "tensors_sha256": digest, "quantizers": entries}
    if lazy:
        config["lazy_parameters"] = lazy
    _note_strictness(model, config)
    _note_stubbed(model, config)
    config_path = directory / "config.yaml"
    _atomic_write(config_path, [_dump_config(config)])
    return config_path


def _own_tensors(q: torch.nn.Module) -> List[Tuple[str, torch.Tensor]]:
    """(state key, tensor) of a quantizer, lazy ones included (state_dict() rejects them)."""
    out: List[Tuple[str, torch.Tensor]] = []
    for prefix, module in q.named_modules():
        head = prefix + "." if prefix else ""
        for name, p in module._parameters.items():
            if p is not None:
                out.append((head + name, p))
        for name, b in module._buffers.items():
            if b is not None and name not in module._non_persistent_buffers_set:
                out.append((head + name, b))
    return out


def _transformers_version() -> Optional[str]:
    """The version of an already imported ``transformers`` (the model's library), else None."""
    import sys

    return getattr(sys.modules.get("transformers"), "__version__", None)


def _version() -> str:
    import fastforward

    return getattr(fastforward, "__version__", "unknown")


def load_quantization_state(model: torch.nn.Module, *, tag: str = "main", name_or_path: Optional[str] = None,
                            cache_dir: Optional[Union[str, os.PathLike]] = None, overwrite_policy: str = "error",
                            allow_lazy_params: bool = False) -> torch.nn.Module:
    """Rebuild the saved quantizers into ``model`` (see module doc). Every check happens
    before the model is touched."""
    if overwrite_policy not in ("error", "skip", "overwrite"):
        raise ValueError("overwrite_policy must be 'error', 'skip' or 'overwrite', got %r" % (overwrite_policy,))
    if name_or_path is not None and Path(name_or_path).is_file():  # the config file itself
        config_path = Path(name_or_path)
        expected_ident = None
    else:
        directory, expected_ident = _state_dir(model, tag, name_or_path, cache_dir)
        config_path = directory / "config.yaml"
    tensor_path = config_path.parent / "model.safetensors"
    for p in (config_path, tensor_path):
        if not p.is_file():
            raise FileNotFoundError("no saved quantization state: %s is missing" % p)
    try:
        config = _read_config(config_path)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("%s: corrupted config: %s" % (config_path, exc)) from None
    if not isinstance(config, dict) or config.get("version") != VERSION:
        raise ValueError("%s: unsupported version %r (expected %r)"
                         % (config_path, config.get("version") if isinstance(config, dict) else None, VERSION))
    if expected_ident is not None and config.get("name_or_path") != expected_ident:
        raise RuntimeError("%s was saved for %r, not %r" % (config_path, config.get("name_or_path"), expected_ident))
    blob = tensor_path.read_bytes()
    if config.get("tensors_sha256") and hashlib.sha256(blob).hexdigest() != config["tensors_sha256"]:
        raise ValueError("%s does not match the checksum in %s (corrupted or from another save)"
                         % (tensor_path, config_path))
    tensors, _ = read_safetensors(tensor_path)
    plan = _plan_quantizers(model, config, tensors, str(config_path), overwrite_policy, allow_lazy_params)
    _apply_plan(plan)
    _restore_strictness(model, config)
    return model


def _note_strictness(model: torch.nn.Module, config: Dict[str, Any]) -> None:
    """A model made by ``fastforward.quantize`` runs without strict quantization
    (``mark_non_strict``); its saved state says so, and loading it marks the copy."""
    from fastforward.quantization.strict_quantization import is_marked_non_strict

    if is_marked_non_strict(model):
        config["strict_quantization"] = False


def _note_stubbed(model: torch.nn.Module, config: Dict[str, Any]) -> None:
    """The slots a calibration turned into stubs (``fastforward.calibration``: branches never
    reached, masks): loading makes them stubs in a copy that holds real, uncalibrated
    quantizers there (one made by the same ``fastforward.quantize`` call)."""
    from fastforward.nn.quantized_module import _STUBBED_KEY

    stubbed = sorted(path for path, (parent, attr, q) in _quantizer_slots(model).items()
                     if q.is_stub() and attr in parent.__dict__.get(_STUBBED_KEY, ()))
    if stubbed:
        config["stubs"] = stubbed


def _restore_strictness(model: torch.nn.Module, config: Mapping[str, Any]) -> None:
    if config.get("strict_quantization") is False:
        from fastforward.quantization.strict_quantization import mark_non_strict

        mark_non_strict(model)


def _module_at(model: torch.nn.Module, path: str) -> Optional[torch.nn.Module]:
    """The submodule at dotted ``path`` in ``model``, or None."""
    module: Optional[torch.nn.Module] = model
    for part in str(path).split("."):
        module = module._modules.get(part) if module is not None else None
    return module


def _plan_quantizers(model: torch.nn.Module, config: Mapping[str, Any], tensors: Mapping[str, torch.Tensor],
                     where: str, overwrite_policy: str, allow_lazy_params: bool
                     ) -> List[Tuple[torch.nn.Module, str, Quantizer, str]]:
    """Build (without touching the model) the quantizers to put in place; every check here."""
    recipes = config.get("quantizers") or {}
    if not isinstance(recipes, Mapping):
        raise ValueError("%s: 'quantizers' is not a mapping" % where)
    lazy_keys = dict(config.get("lazy_parameters") or {})
    for path, recipe in recipes.items():  # files of earlier versions: lazy keys in the recipe
        if isinstance(recipe, Mapping) and recipe.get("lazy"):
            lazy_keys[path] = list(recipe["lazy"])
    slots = _quantizer_slots(model)
    stubbed = [p for p in (config.get("stubs") or ()) if p in slots and p not in recipes]
    unexpected = sorted(p for p in recipes if p not in slots)
    occupied = [p for p in unexpected if _module_at(model, p) is not None]
    if occupied:  # the path is there, but holds a layer, not a quantizer
        raise ValueError(
            "quantization state %s: %s in %s %s not a quantizer; the model is unchanged"
            % (where, ", ".join(repr(p) for p in occupied), type(model).__name__,
               "is" if len(occupied) == 1 else "are"))
    missing = sorted(p for p, (_, _, q) in slots.items()
                     if not q.is_stub() and p not in recipes and p not in stubbed)
    if unexpected or missing:
        raise RuntimeError(
            "quantization state %s does not fit %s; the model is unchanged.\n  missing (quantizers "
            "of the model not in the file): %s\n  unexpected (saved quantizers with no slot in the "
            "model): %s" % (where, type(model).__name__, ", ".join(missing) or "none",
                             ", ".join(unexpected) or "none"))
    built: Dict[str, Quantizer] = {}
    plan: List[Tuple[torch.nn.Module, str, Quantizer, str]] = []
    used = set()
    def shared(entry: Any) -> bool:
        return isinstance(entry, Mapping) and "shared_with" in entry

    for path in sorted(recipes, key=lambda p: shared(recipes[p])):
        recipe = recipes[path]
        parent, attr, current = slots[path]
        if shared(recipe):
            if recipe["shared_with"] not in built:
                raise ValueError("%s: %r is shared with %r, which holds no quantizer" % (where, path, recipe["shared_with"]))
            new = built[recipe["shared_with"]]
        else:
            new = recipe if isinstance(recipe, Quantizer) else build_quantizer(recipe)
            state = {k[len(path) + 1:]: v for k, v in tensors.items() if k.startswith(path + ".")}
            used.update(path + "." + k for k in state)
            if lazy_keys.get(path) and not allow_lazy_params:
                raise ValueError("%s at %r was saved with lazy parameters; pass allow_lazy_params=True"
                                 % (type(new).__name__, path))
            result = new.load_state_dict(state, strict=False)
            bad_missing = [k for k in result.missing_keys if k not in lazy_keys.get(path, [])]
            if bad_missing or result.unexpected_keys:
                raise RuntimeError("quantizer %r: missing keys %s, unexpected keys %s; the model is unchanged"
                                   % (path, bad_missing, list(result.unexpected_keys)))
            built[path] = new
        if not current.is_stub():
            if overwrite_policy == "error":
                raise QuantizationError("%r already holds %r; pass overwrite_policy='overwrite' or 'skip'"
                                        % (path, current))
            if overwrite_policy == "skip":
                continue
        plan.append((parent, attr, new, path))
    for path in stubbed:  # saved as stubs by calibration: a real quantizer there becomes one
        parent, attr, current = slots[path]
        if current.is_stub():
            continue
        if overwrite_policy == "error":
            raise QuantizationError("%r already holds %r; pass overwrite_policy='overwrite' or 'skip'"
                                    % (path, current))
        if overwrite_policy == "skip":
            continue
        plan.append((parent, attr, QuantizerStub(_metadata=current.quant_metadata), path))
    stray = sorted(set(tensors) - used)
    if stray:
        raise RuntimeError("quantization state %s has tensors for no saved quantizer: %s; the model is unchanged"
                           % (where, ", ".join(stray)))
    return plan


def _apply_plan(plan: List[Tuple[torch.nn.Module, str, Quantizer, str]]) -> None:
    from fastforward.nn.quantized_module import _STUBBED_KEY

    for parent, attr, new, path in plan:
        _replace_slot(parent, attr, new)
        new.__dict__["_ff_path"] = path
        if new.is_stub():
            parent.__dict__.setdefault(_STUBBED_KEY, set()).add(attr)


def _replace_slot(parent: torch.nn.Module, attr: str, new: Quantizer) -> None:
    from fastforward.quantization._tensors import quantized_tensor
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    pair = quantized_tensor(parent, attr) if isinstance(new, FrozenWeightQuantizer) else None
    setattr(parent, attr, new)
    if pair is not None:  # a frozen weight quantizer replaces its float weight
        owner, name = pair
        if isinstance(owner._parameters.get(name), torch.nn.Parameter):
            del owner._parameters[name]
            owner.register_parameter(name, None)


# --- a self-contained quantized model -----------------------------------------------------------

_QUANTIZER_FILE = "quantizer_state.safetensors"
_WEIGHTS_FILE = "weights.safetensors"


def _quantizer_keys(model: torch.nn.Module) -> set:
    """State-dict keys that belong to quantizers or to quantizer recipes."""
    from fastforward.nn.quantized_module import _RECIPES_KEY

    prefixes = [path + "." for path in _quantizer_slots(model)]
    keys = set()
    for key in model.state_dict(keep_vars=True):
        if key.endswith(_RECIPES_KEY) or any(key.startswith(p) for p in prefixes):
            keys.add(key)
    return keys


def _weights(model: torch.nn.Module) -> Dict[str, torch.Tensor]:
    skip = _quantizer_keys(model)
    return {k: v for k, v in model.state_dict(keep_vars=True).items()
            if k not in skip and isinstance(v, torch.Tensor)}


def save_quantized_model(model: torch.nn.Module, path: Union[str, os.PathLike], *, name_or_path: Optional[str] = None,
                         allow_lazy_params: bool = False) -> Path:
    """Write ``model`` as a directory: ``config.yaml`` (quantizer recipes),
    ``quantizer_state.safetensors``, ``weights.safetensors`` (everything else; tensors
    sharing storage stored once) and ``manifest.json``. Returns the directory."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise ValueError("%s exists and is not a directory" % directory)
    if name_or_path is None:
        name_or_path = getattr(getattr(model, "config", None), "name_or_path", None) or ""
    entries, lazy, qtensors = _collect_quantizers(model, allow_lazy_params)
    weights: Dict[str, torch.Tensor] = {}
    tied: Dict[str, str] = {}
    owners: Dict[Tuple[int, int, Tuple[int, ...], Tuple[int, ...], Any], str] = {}
    for key, value in sorted(_weights(model).items()):
        ident = (value.data_ptr(), value.storage_offset(), tuple(value.shape), tuple(value.stride()), value.dtype)
        if value.numel() and ident in owners:
            tied[key] = owners[ident]
            continue
        owners[ident] = key
        weights[key] = value.detach()
    _make_directory(directory)
    write_safetensors(qtensors, directory / _QUANTIZER_FILE, dict(_tensor_map(entries, lazy, qtensors), format="pt"))
    write_safetensors(weights, directory / _WEIGHTS_FILE, {"format": "pt"})
    digests = {name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
               for name in (_QUANTIZER_FILE, _WEIGHTS_FILE)}
    config = {"version": VERSION, "name_or_path": name_or_path, "transformers_version": _transformers_version(),
              "fastforward_version": _version(), "quantizers": entries}
    if lazy:
        config["lazy_parameters"] = lazy
    _note_strictness(model, config)
    _note_stubbed(model, config)
    _atomic_write(directory / "config.yaml", [_dump_config(config)])
    manifest = {"version": VERSION, "name_or_path": name_or_path, "fastforward_version": _version(),
                "tied_weights": tied, "sha256": digests}
    _atomic_write(directory / "manifest.json", [json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"])
    return directory


def load_quantized_model(model: torch.nn.Module, path: Union[str, os.PathLike], *, overwrite_policy: str = "error",
                         allow_lazy_params: bool = False, expected_name: Optional[str] = None) -> torch.nn.Module:
    """Restore a ``save_quantized_model`` directory into ``model`` (a ``quantize_model``-ed copy
    of the same float model): quantizers first, then weights. Everything is checked (files,
    checksums, names, key sets, shapes) before the model changes; a mismatch is a
    ``RuntimeError`` listing the keys. ``expected_name=""`` skips the identifier check."""
    directory = Path(path)
    files = {name: directory / name for name in ("config.yaml", "manifest.json", _QUANTIZER_FILE, _WEIGHTS_FILE)}
    for p in files.values():
        if not p.is_file():
            raise FileNotFoundError("not a saved quantized model: %s is missing" % p)
    try:
        config = _read_config(files["config.yaml"])
        manifest = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("%s: corrupted config or manifest: %s" % (directory, exc)) from None
    if config.get("version") != VERSION or manifest.get("version") != VERSION:
        raise ValueError("%s: unsupported version (expected %r)" % (directory, VERSION))
    if expected_name is None:
        expected_name = getattr(getattr(model, "config", None), "name_or_path", None)
    if expected_name and manifest.get("name_or_path") != expected_name:
        raise RuntimeError("%s holds %r, not %r" % (directory, manifest.get("name_or_path"), expected_name))
    for name, digest in (manifest.get("sha256") or {}).items():
        if hashlib.sha256(files[name].read_bytes()).hexdigest() != digest:
            raise ValueError("%s does not match its checksum (corrupted)" % files[name])
    qtensors, _ = read_safetensors(files[_QUANTIZER_FILE])
    weights, _ = read_safetensors(files[_WEIGHTS_FILE])
    for alias, owner in (manifest.get("tied_weights") or {}).items():
        if owner not in weights:
            raise ValueError("%s: tied weight %r refers to missing %r" % (directory, alias, owner))
        weights[alias] = weights[owner]
    if not isinstance(config, dict):
        raise ValueError("%s: corrupted config" % directory)
    plan = _plan_quantizers(model, config, qtensors, str(directory), overwrite_policy, allow_lazy_params)
    # The weights the model will have once the quantizers are in place (a frozen weight
    # quantizer removes its float weight).
    from fastforward.quantization._tensors import quantized_tensor
    from fastforward.quantization.freeze import FrozenWeightQuantizer

    frozen = [quantized_tensor(parent, attr) for parent, attr, new, _ in plan
              if isinstance(new, FrozenWeightQuantizer)]
    removed = {_prefix_of(model, pair[0]) + pair[1] for pair in frozen if pair is not None}
    expected = {k: v for k, v in _weights(model).items() if k not in removed}
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = sorted(k for k in set(expected) & set(weights) if tuple(expected[k].shape) != tuple(weights[k].shape))
    if missing or unexpected or wrong:
        raise RuntimeError("%s does not fit %s; the model is unchanged.\n  missing: %s\n  unexpected: %s\n"
                           "  wrong shape: %s" % (directory, type(model).__name__, ", ".join(missing) or "none",
                                                  ", ".join(unexpected) or "none", ", ".join(wrong) or "none"))
    _apply_plan(plan)
    result = model.load_state_dict(weights, strict=False)
    left = [k for k in result.missing_keys if k in expected]
    if left or result.unexpected_keys:
        raise RuntimeError("weights did not load: missing %s, unexpected %s" % (left, list(result.unexpected_keys)))
    _restore_strictness(model, config)
    return model


def _prefix_of(model: torch.nn.Module, module: torch.nn.Module) -> str:
    for name, m in model.named_modules():
        if m is module:
            return name + "." if name else ""
    raise ValueError("module not in model")

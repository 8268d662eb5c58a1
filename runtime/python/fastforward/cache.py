"""Where fastforward keeps files between runs (saved quantization state).

The root is ``cache_dir`` when given, else ``$FF_CACHE``, else ``$XDG_CACHE_HOME/fastforward``,
else ``~/.cache/fastforward``. Under it, assets live in ``<namespace>/<tag>/``; a space, ``/``,
``\\``, ``:``, ``<``, ``>`` or ``|`` in either part becomes ``--`` (so one namespace is one
directory level).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

__all__ = ["cache_root", "get_assets_path"]


def cache_root(cache_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """The cache root: ``cache_dir``, ``$FF_CACHE``, ``$XDG_CACHE_HOME/fastforward`` or
    ``~/.cache/fastforward``, the first one set."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("FF_CACHE"):
        return Path(os.environ["FF_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "fastforward"
    return Path.home() / ".cache" / "fastforward"


def _sanitise(part: str) -> str:
    for ch in " /\\:<>|":
        part = part.replace(ch, "--")
    return part


def get_assets_path(namespace: str, tag: str = "main", cache_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """``<cache root>/<namespace>/<tag>`` with both parts sanitised (the directory is not
    created). ``ValueError`` if that path exists and is not a directory."""
    directory = cache_root(cache_dir) / _sanitise(str(namespace)) / _sanitise(str(tag))
    if directory.exists() and not directory.is_dir():
        raise ValueError("%s exists and is not a directory" % directory)
    return directory

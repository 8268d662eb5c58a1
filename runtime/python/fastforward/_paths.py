"""Where the files that come with fastforward are: the ffq executable and libffqrt.

Three ways to have fastforward, and where each puts them:

* ``pip install .`` (or a wheel): ``ffq`` in the environment's scripts directory (on PATH
  when the environment is active) and the library inside the package, as
  ``fastforward/_lib/libffqrt.so``.
* ``pip install -e .`` (meson-python editable): the package is read from the checkout and
  the build lives in ``build/<abi tag>/`` of the checkout; ``fastforward/_lib/libffqrt.so``
  resolves into that build through the package's resources, ``ffq`` is found in it too.
* a source checkout on ``PYTHONPATH`` (``runtime/python``): the Meson build in ``build/``.

An environment variable wins over all of these: ``FFQ_BINARY`` for the executable,
``FFQRT_LIBRARY`` for the library.
"""

import glob
import importlib.resources
import os
import shutil
import sys
import sysconfig

__all__ = [
    "checkout_build_dirs",
    "default_optable_path",
    "ffq_binary_path",
    "in_checkout",
    "known_modules_path",
    "libffqrt_path",
]

_LIBRARY = "libffqrt.so"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# runtime/python/fastforward/ -> the root of a source checkout (when this is one).
CHECKOUT = os.path.normpath(os.path.join(_PACKAGE_DIR, "..", "..", ".."))


def in_checkout():
    """True when this package is read from a source checkout (PYTHONPATH or editable)."""
    try:
        return os.path.isfile(os.path.join(CHECKOUT, "meson.build")) and os.path.samefile(
            os.path.join(CHECKOUT, "runtime", "python", "fastforward"), _PACKAGE_DIR
        )
    except OSError:
        return False


def checkout_build_dirs():
    """Meson build directories of the source checkout this package is read from.

    ``build/`` (what ``scripts/demo`` makes) and meson-python's editable builds
    (``build/cp311/`` and the like); the editable ones first under an editable install
    (they are rebuilt on import, so they are current). Empty outside a checkout.
    """
    if not in_checkout():
        return []
    top = os.path.join(CHECKOUT, "build")
    plain = [top] if os.path.isfile(os.path.join(top, "build.ninja")) else []
    editable = [os.path.dirname(p) for p in sorted(glob.glob(os.path.join(top, "*", "build.ninja")))]
    if "_ffq_editable_loader" in sys.modules:
        return editable + plain
    return plain + editable


def _executable(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def _package_resource(*parts):
    """A file of the installed package, as a real path, or None.

    importlib.resources resolves it for a wheel install (a file in site-packages) and for a
    meson-python editable install (a file in the build directory) alike.
    """
    try:
        resource = importlib.resources.files(__package__ or "fastforward").joinpath(*parts)
    except (ImportError, TypeError, ValueError):
        return None
    path = os.fspath(resource) if isinstance(resource, os.PathLike) else None
    return path if path and os.path.isfile(path) else None


def libffqrt_path():
    """Path of libffqrt, the runtime's shared library; None when there is none.

    Order: $FFQRT_LIBRARY, ``<package>/_lib/libffqrt.so``, then the checkout's build.
    """
    env = os.environ.get("FFQRT_LIBRARY")
    if env:
        return env
    packaged = _package_resource("_lib", _LIBRARY)
    if packaged:
        return packaged
    for build in checkout_build_dirs():
        candidate = os.path.join(build, "runtime", _LIBRARY)
        if os.path.isfile(candidate):
            return candidate
    return None


def _data_file(name):
    """``fastforward/_data/<name>`` of an installed package (a wheel or an editable install),
    else ``optable/<name>`` of the checkout; None if neither exists."""
    packaged = _package_resource("_data", name)
    if packaged:
        return packaged
    candidate = os.path.join(CHECKOUT, "optable", name)
    return candidate if in_checkout() and os.path.isfile(candidate) else None


def default_optable_path():
    """Path of the default operator table (YAML), the one embedded in ffq; None if missing."""
    return _data_file("default.yaml")


def known_modules_path():
    """Path of the known-module list (the torch modules with built-in quantized classes, the
    list compiled into ffq); None if missing."""
    return _data_file("known_modules.txt")


def _installed_with_package():
    """The ``ffq`` that pip installed together with this fastforward, if any."""
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        dist = metadata.distribution("ffq")
    except metadata.PackageNotFoundError:
        return None
    # Only when that distribution is the one this package was imported from.
    own = os.path.realpath(os.path.join(_PACKAGE_DIR, "__init__.py"))
    if os.path.realpath(os.fspath(dist.locate_file("fastforward/__init__.py"))) != own:
        return None
    for entry in dist.files or ():
        if entry.name == "ffq" and entry.parent.name == "bin":
            path = os.fspath(entry.locate())
            if _executable(path):
                return os.path.normpath(path)
    return None


def ffq_binary_path():
    """Path of the ffq executable; None when there is none.

    Order: $FFQ_BINARY; the ``ffq`` installed with this package (the wheel's file list,
    else the scripts directory of the environment the package is installed in, else
    ``ffq`` on PATH); for a checkout, its build.
    """
    env = os.environ.get("FFQ_BINARY")
    if env:
        return env
    if not in_checkout():
        installed = _installed_with_package()
        if installed:
            return installed
        scripts = os.path.join(sysconfig.get_path("scripts"), "ffq")
        if _executable(scripts):
            return scripts
        return shutil.which("ffq")
    for build in checkout_build_dirs():
        candidate = os.path.join(build, "src", "ffq")
        if _executable(candidate):
            return candidate
    return None

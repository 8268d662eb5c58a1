"""Helpers for testing code that uses fastforward.

* ``assert_close(actual, expected, **kw)``: ``torch.testing.assert_close`` after
  dequantizing any ``QuantizedTensor`` argument;
* ``isolated_state()``: a context manager that restores fastforward's global switches,
  dispatcher registrations and quantized-module map (``QuantizedModule`` subclasses defined
  inside a function in the block are forgotten; module-level ones, e.g. of a module first
  imported in the block, stay, as Python will not import that module again), torch's default
  dtype and thread count at exit, so a test cannot leak them into the next one.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from fastforward import _integer, dispatcher, flags
from fastforward.nn import attention
from fastforward.nn import quantized_module as _qm
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["assert_close", "isolated_state"]


def assert_close(actual: Any, expected: Any, **kwargs: Any) -> None:
    """``torch.testing.assert_close`` comparing dequantized values of quantized tensors."""
    if isinstance(actual, QuantizedTensor):
        actual = actual.dequantize()
    if isinstance(expected, QuantizedTensor):
        expected = expected.dequantize()
    torch.testing.assert_close(actual, expected, **kwargs)


@contextlib.contextmanager
def isolated_state() -> Iterator[None]:
    """Within the block change flags, register kernels, define quantized module classes, set
    torch's default dtype or thread count freely: all of it is put back at exit, also when
    the block raises."""
    saved_flags = flags._snapshot()
    saved_registry = {op: list(entries) for op, entries in dispatcher._registry.items()}
    saved_integer = dict(_integer._state)
    saved_upcast = list(attention._upcast)
    saved_map = (dict(_qm._QUANTIZED_CLASSES), list(_qm._RECORDED))
    dtype = torch.get_default_dtype()
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        flags._restore(saved_flags)
        dispatcher._registry.clear()
        dispatcher._registry.update(saved_registry)
        _integer._state.update(saved_integer)
        attention._upcast[:] = saved_upcast
        _restore_module_map(*saved_map)
        torch.set_default_dtype(dtype)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _restore_module_map(classes: dict, recorded: list) -> None:
    kept = [(base, cls) for base, cls in _qm._RECORDED[len(recorded):] if "<locals>" not in cls.__qualname__]
    _qm._QUANTIZED_CLASSES.clear()
    _qm._QUANTIZED_CLASSES.update(classes)
    _qm._QUANTIZED_CLASSES.update(kept)
    _qm._RECORDED[:] = recorded + kept

"""Logging for fastforward: one ``logging`` logger per module under ``"fastforward"``.

fastforward never configures handlers; applications do (``logging.basicConfig(...)``).
"""

from __future__ import annotations

import logging

__all__ = ["get_logger"]


def get_logger(name: str = "fastforward") -> logging.Logger:
    """The logger ``name``, placed under ``fastforward`` when it is not already."""
    if name != "fastforward" and not name.startswith("fastforward."):
        name = "fastforward." + name
    return logging.getLogger(name)

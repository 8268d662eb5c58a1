"""Exception types of fastforward."""

__all__ = ["AutoquantError", "ExportError", "QuantizationError"]


class QuantizationError(RuntimeError):
    """A quantization rule was broken (e.g. implicit dequantization under strict mode)."""


class ExportError(RuntimeError):
    """A model cannot be exported."""


class AutoquantError(Exception):
    """The autoquant compiler failed."""

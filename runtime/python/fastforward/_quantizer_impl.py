"""Where the quantizer base classes live (kept for imports of ``fastforward._quantizer_impl``;
the public home is ``fastforward.nn``)."""

from fastforward.nn.quantizer import Quantizer, QuantizerMetadata, QuantizerStub, Tag, default_tags

__all__ = ["Quantizer", "QuantizerMetadata", "QuantizerStub", "Tag", "default_tags"]

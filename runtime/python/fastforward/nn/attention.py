"""Quantized scaled dot-product attention, computed step by step.

``scaled_dot_product_attention(query, key, value, ...)`` takes torch's arguments plus one
optional quantizer per intermediate result::

    q' = query * sqrt(scale)                  scaled_query_quantizer
    k' = key * sqrt(scale)                    scaled_key_quantizer
    s  = q' @ k'^T                            attn_scores_quantizer
    m  = attn_mask (float masks)              attn_mask_quantizer
    s' = s + m, or s with neg_inf where a      masked_scores_quantizer
         bool mask / the causal mask is False
    w  = softmax(s', -1)                      attn_weights_quantizer
    w' = dropout(w, dropout_p)                dropout_quantizer
    o  = w' @ value                           output_quantizer

``scale`` defaults to ``1 / sqrt(query.size(-1))``. When no intermediate quantizer is given
(None or stubs) and the torch fallback is allowed (``sdpa_torch_fallback=True``, or the
global ``sdpa_torch_fallback_allowed`` flag, on by default), torch's fused kernel computes the attention and
only the output quantizer applies. ``with sdpa_upcast(torch.float32):`` runs the step-by-step
arithmetic in a wider dtype (the result is cast back to the query's dtype).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F

from fastforward import dispatcher as _dispatcher
from fastforward.exceptions import QuantizationError
from fastforward.flags import (
    get_sdpa_torch_fallback_allowed,
    get_strict_quantization,
    sdpa_torch_fallback_allowed,
    set_sdpa_torch_fallback_allowed,
)
from fastforward.quantized_tensor import QuantizedTensor

__all__ = [
    "get_sdpa_torch_fallback_allowed",
    "scaled_dot_product_attention",
    "sdpa_torch_fallback_allowed",
    "sdpa_upcast",
    "set_sdpa_torch_fallback_allowed",
]

_INTERMEDIATES = ("scaled_query_quantizer", "scaled_key_quantizer", "attn_scores_quantizer",
                  "attn_mask_quantizer", "masked_scores_quantizer", "attn_weights_quantizer",
                  "dropout_quantizer")
_upcast: List[torch.dtype] = []


class sdpa_upcast:  # noqa: N801 - used like a function, as a context manager
    """Within the block, step-by-step attention computes in ``dtype``."""

    def __init__(self, dtype: torch.dtype = torch.float32) -> None:
        self.dtype = dtype

    def __enter__(self) -> "sdpa_upcast":
        _upcast.append(self.dtype)
        return self

    def __exit__(self, *exc: Any) -> None:
        _upcast.pop()


def _value(x: Any) -> Any:
    return x.dequantize() if isinstance(x, QuantizedTensor) else x


def _active(q: Any) -> bool:
    return q is not None and not (hasattr(q, "is_stub") and q.is_stub())


def _apply(q: Any, x: torch.Tensor) -> torch.Tensor:
    return _value(q(x)) if _active(q) else x


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Optional[torch.Tensor] = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: Optional[float] = None,
                                 enable_gqa: bool = False, *, neg_inf: float = float("-inf"),
                                 attn_scores_quantizer: Any = None, attn_mask_quantizer: Any = None,
                                 masked_scores_quantizer: Any = None, attn_weights_quantizer: Any = None,
                                 scaled_query_quantizer: Any = None, scaled_key_quantizer: Any = None,
                                 dropout_quantizer: Any = None, output_quantizer: Any = None,
                                 strict_quantization: Optional[bool] = None,
                                 sdpa_torch_fallback: Optional[bool] = None, **quantizers: Any) -> torch.Tensor:
    """Attention with optional quantizers for its intermediates (see the module doc)."""
    unknown = set(quantizers) - set(_INTERMEDIATES)
    if unknown:
        raise TypeError("scaled_dot_product_attention: unknown quantizer argument(s) %s" % ", ".join(sorted(unknown)))
    if strict_quantization is None:
        strict_quantization = get_strict_quantization()
    if _dispatcher._registry.get("scaled_dot_product_attention"):
        # Registered kernels first (fastforward._integer's integer attention among them), every
        # argument by keyword as for the other functional ops, before the strict checks: a
        # kernel may take operands the fallback would refuse.
        result = _dispatcher.call("scaled_dot_product_attention", query=query, key=key, value=value,
                                  attn_mask=attn_mask,
                                  dropout_p=dropout_p, is_causal=is_causal, scale=scale, enable_gqa=enable_gqa,
                                  neg_inf=neg_inf, attn_scores_quantizer=attn_scores_quantizer,
                                  attn_mask_quantizer=attn_mask_quantizer,
                                  masked_scores_quantizer=masked_scores_quantizer,
                                  attn_weights_quantizer=attn_weights_quantizer,
                                  scaled_query_quantizer=scaled_query_quantizer,
                                  scaled_key_quantizer=scaled_key_quantizer, dropout_quantizer=dropout_quantizer,
                                  output_quantizer=output_quantizer, strict_quantization=strict_quantization,
                                  sdpa_torch_fallback=sdpa_torch_fallback, **quantizers)
        if result is not _dispatcher.MISS:
            return result
    if strict_quantization:
        if output_quantizer is None:
            raise QuantizationError("fastforward.nn.functional.scaled_dot_product_attention: no output_quantizer "
                                    "given under strict quantization")
        for name, operand in (("query", query), ("key", key), ("value", value)):
            if not isinstance(operand, QuantizedTensor):
                from fastforward.nn.functional import op_location

                raise QuantizationError(
                    "fastforward.nn.functional.scaled_dot_product_attention%s: argument %r is not a "
                    "QuantizedTensor (got %s) under strict quantization"
                    % (op_location(output_quantizer), name, type(operand).__name__))
    q, k, v = _value(query), _value(key), _value(value)
    mask = _value(attn_mask)
    intermediates = dict(scaled_query_quantizer=scaled_query_quantizer, scaled_key_quantizer=scaled_key_quantizer,
                         attn_scores_quantizer=attn_scores_quantizer, attn_mask_quantizer=attn_mask_quantizer,
                         masked_scores_quantizer=masked_scores_quantizer, attn_weights_quantizer=attn_weights_quantizer,
                         dropout_quantizer=dropout_quantizer)
    intermediates.update(quantizers)
    fallback = get_sdpa_torch_fallback_allowed() if sdpa_torch_fallback is None else sdpa_torch_fallback
    if fallback and not any(_active(x) for x in intermediates.values()) and hasattr(F, "scaled_dot_product_attention"):
        kwargs: Dict[str, Any] = {"attn_mask": mask, "dropout_p": dropout_p, "is_causal": is_causal}
        if scale is not None:
            kwargs["scale"] = scale
        if enable_gqa:
            kwargs["enable_gqa"] = True
        out = F.scaled_dot_product_attention(q, k, v, **kwargs)
        return out if output_quantizer is None else output_quantizer(out)

    out_dtype = q.dtype
    work = _upcast[-1] if _upcast else q.dtype
    q, k, v = q.to(work), k.to(work), v.to(work)
    if enable_gqa and k.size(-3) != q.size(-3):
        k = k.repeat_interleave(q.size(-3) // k.size(-3), -3)
        v = v.repeat_interleave(q.size(-3) // v.size(-3), -3)
    factor = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
    root = math.sqrt(factor)
    q = _apply(intermediates["scaled_query_quantizer"], q * root)
    k = _apply(intermediates["scaled_key_quantizer"], k * root)
    scores = _apply(intermediates["attn_scores_quantizer"], q @ k.transpose(-2, -1))
    L, S = q.size(-2), k.size(-2)
    masked = False
    if is_causal:
        keep = torch.ones(L, S, dtype=torch.bool, device=scores.device).tril()
        scores = scores.masked_fill(~keep, neg_inf)
        masked = True
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, neg_inf)
        else:
            scores = scores + _apply(intermediates["attn_mask_quantizer"], mask.to(work))
        masked = True
    if masked:
        scores = _apply(intermediates["masked_scores_quantizer"], scores)
    weights = _apply(intermediates["attn_weights_quantizer"], torch.softmax(scores, dim=-1))
    if dropout_p > 0.0:
        weights = _apply(intermediates["dropout_quantizer"], F.dropout(weights, dropout_p, training=True))
    out = (weights @ v).to(out_dtype)
    return out if output_quantizer is None else output_quantizer(out)

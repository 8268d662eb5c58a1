"""GPTQ: set a layer's weight to quantized values column by column, compensating each
column's rounding error in the columns not yet quantized (Frantar et al., 2022).

For a linear layer ``y = x W^T`` with calibration inputs ``X`` (one row per sample) the
layer-output error of a weight change is measured by ``H = 2/n X^T X``. Columns are
quantized in order (or by decreasing ``diag(H)`` with ``actorder``); after column ``i`` its
error ``(w_i - q_i) / [H^-1]_ii`` is spread over the remaining columns through the row ``i``
of the upper Cholesky factor of ``H^-1`` (the optimal update when column ``i`` is fixed).
Columns are processed in blocks of ``block_size`` with the updates of later blocks batched.
Convolutions are the same with ``X`` the unfolded input patches.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

import torch
import torch.nn.functional as F

from fastforward.flags import strict_quantization
from fastforward.nn.linear_quantizer import LinearQuantizer
from fastforward.quantization.granularity import PerChannel, PerTensor
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["gptq"]

_log = logging.getLogger("fastforward.gptq")


def _first_input(item: Any) -> torch.Tensor:
    while isinstance(item, (tuple, list)):
        item = item[0]
    if isinstance(item, dict):
        item = item.get("input", next(iter(item.values())))
    if isinstance(item, QuantizedTensor):
        item = item.dequantize()
    if not isinstance(item, torch.Tensor):
        raise TypeError("gptq: dataset items must be input tensors (or tuples starting with one), got %r"
                        % type(item).__name__)
    return item


def _columns(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer's input as a (features, samples) matrix matching the 2-D weight's columns."""
    if isinstance(module, torch.nn.Conv2d):
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            raise TypeError("gptq: Conv2d with padding_mode=%r / padding=%r is not supported"
                            % (module.padding_mode, module.padding))
        patches = F.unfold(x, module.kernel_size, module.dilation, module.padding, module.stride)
        if module.groups != 1:
            raise TypeError("gptq: grouped convolutions are not supported")
        return patches.transpose(0, 1).reshape(patches.shape[1], -1)
    return x.reshape(-1, x.shape[-1]).t()


def _quantize_block(quantizer: LinearQuantizer, block: torch.Tensor) -> torch.Tensor:
    out = quantizer(block)
    return out.dequantize() if isinstance(out, QuantizedTensor) else out


def gptq(module: torch.nn.Module, dataset: Iterable[Any], block_size: int = 128, perc_damp: float = 0.01,
         actorder: bool = False, layer_name: str = "") -> None:
    """Quantize ``module.weight`` in place with GPTQ (see module doc).

    ``module`` is a quantized ``Linear`` or ``Conv2d`` whose ``weight_quantizer`` is a
    ``LinearQuantizer`` per tensor or per output channel (``PerChannel(0)``); an
    uncalibrated one gets its range from the weight's min and max first. ``dataset`` yields
    the module's inputs (tensors, or tuples whose first element is the input). The input
    quantizer, if real, is applied to them as the layer would. Afterwards the float weight
    holds values on the quantizer's grid, so quantizing it again changes nothing."""
    quantizer = getattr(module, "weight_quantizer", None)
    if not isinstance(quantizer, LinearQuantizer):
        raise TypeError("gptq: %s needs a LinearQuantizer weight_quantizer, has %s"
                        % (layer_name or type(module).__name__, type(quantizer).__name__))
    granularity = quantizer.granularity
    if not (isinstance(granularity, PerTensor)
            or isinstance(granularity, PerChannel) and tuple(granularity.channel_dims) in ((0,), (-module.weight.dim(),))):
        raise TypeError("gptq: weight quantizer granularity must be PerTensor() or PerChannel(0), got %r"
                        % (granularity,))
    weight = module.weight
    W = weight.detach().reshape(weight.shape[0], -1).to(torch.float64).clone()
    cols = W.shape[1]
    H = torch.zeros(cols, cols, dtype=torch.float64, device=W.device)
    samples = 0
    input_quantizer = getattr(module, "input_quantizer", None)
    with torch.no_grad(), strict_quantization(False):
        for item in dataset:
            x = _first_input(item)
            if input_quantizer is not None and not input_quantizer.is_stub():
                x = _first_input(input_quantizer(x))
            X = _columns(module, x.to(torch.float64))
            # running mean of 2 X X^T over all samples seen
            n = X.shape[1]
            H *= samples / (samples + n)
            samples += n
            H += (2.0 / samples) * (X @ X.t())
        if samples == 0:
            raise ValueError("gptq: the dataset of %s is empty" % (layer_name or type(module).__name__))
        if quantizer.has_uninitialized_params:
            w2 = weight.detach().reshape(weight.shape[0], -1)
            if isinstance(granularity, PerTensor):
                quantizer.quantization_range = (w2.min().reshape(1), w2.max().reshape(1))
            else:
                quantizer.quantization_range = (w2.min(1).values, w2.max(1).values)
        dead = torch.diag(H) == 0
        H[dead, dead] = 1.0
        W[:, dead] = 0.0
        perm = torch.argsort(torch.diag(H), descending=True) if actorder else torch.arange(cols, device=W.device)
        W, H = W[:, perm], H[perm][:, perm]
        H += perc_damp * torch.mean(torch.diag(H)) * torch.eye(cols, dtype=H.dtype, device=H.device)
        Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
        dtype = weight.dtype
        for i1 in range(0, cols, block_size):
            i2 = min(i1 + block_size, cols)
            W1 = W[:, i1:i2].clone()
            Q1 = torch.zeros_like(W1)
            Err1 = torch.zeros_like(W1)
            Hinv1 = Hinv[i1:i2, i1:i2]
            for i in range(i2 - i1):
                w = W1[:, i]
                q = _quantize_block(quantizer, w.to(dtype).unsqueeze(1)).squeeze(1).to(torch.float64)
                Q1[:, i] = q
                err = (w - q) / Hinv1[i, i]
                W1[:, i:] -= err.unsqueeze(1) @ Hinv1[i, i:].unsqueeze(0)
                Err1[:, i] = err
            W[:, i1:i2] = Q1
            W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
        W = W[:, torch.argsort(perm)]
        # through the parameter itself (not .data), so its version counter moves and caches of
        # its quantized form (a quantizer's last result, packed integer weights) see the change
        weight.copy_(W.reshape(weight.shape).to(dtype))
    _log.debug("gptq %s: %d samples, %d columns", layer_name, samples, cols)

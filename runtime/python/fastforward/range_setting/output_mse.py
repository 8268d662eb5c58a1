"""Minimum output-MSE range setting for weight quantizers, layer by layer.

For each quantized linear or convolution layer, in the order the model runs them, the weight
quantizer's range is chosen so that the layer's *output* is as close as possible (mean
squared error) to the float model's output of that layer, on calibration data:

1. one float pass (all quantization off) records every target layer's output;
2. for the next layer, a pass through the partly quantized model (layers already done are
   quantized, activation quantizers as they are) records its input;
3. for candidate ranges ``alpha * max|w|`` per output channel (``alpha`` on a grid), the
   layer output with the candidate weight is compared with the float output; output channel
   ``c`` depends only on weight channel ``c``, so each channel keeps its own best ``alpha``;
4. the best range is set and the next layer follows.

Min-max takes ``alpha = 1``; for low bit widths a smaller clipping range usually wins.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

from fastforward.flags import strict_quantization
from fastforward.nn.quantized_layers import QuantizedConv1d, QuantizedConv2d, QuantizedLinear
from fastforward.nn.quantizer import Quantizer
from fastforward.overrides import disable_quantization
from fastforward.quantized_tensor import QuantizedTensor

__all__ = ["output_mse_layers", "set_weight_ranges_by_output_mse"]

_TARGETS = (QuantizedLinear, QuantizedConv1d, QuantizedConv2d)


def output_mse_layers(model: torch.nn.Module) -> List[str]:
    """Paths of the layers ``set_weight_ranges_by_output_mse`` handles: quantized linear and
    convolution layers whose weight quantizer is per-channel (dim 0) and range-settable."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, _TARGETS):
            q = m._modules.get("weight_quantizer")
            if isinstance(q, Quantizer) and not q.is_stub() and hasattr(q, "operator_for_range"):
                dims = getattr(getattr(q, "granularity", None), "channel_dims", None)
                if dims == (0,):
                    out.append(name)
    return out


def _float(x: Any) -> torch.Tensor:
    return x.dequantize() if isinstance(x, QuantizedTensor) else x


def _capture(model: torch.nn.Module, layer: torch.nn.Module, batches: Sequence[Any], inputs: bool) -> List[torch.Tensor]:
    seen: List[torch.Tensor] = []

    def hook(mod: Any, args: Any, output: Any) -> None:
        seen.append(_float(args[0] if inputs else output).detach())

    handle = layer.register_forward_hook(hook)
    try:
        with torch.no_grad(), strict_quantization(False):
            for x in batches:
                model(x)
    finally:
        handle.remove()
    return seen


def _layer_output(layer: torch.nn.Module, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    bias = layer.bias
    if isinstance(layer, QuantizedLinear):
        return F.linear(x, weight, bias)
    if layer.padding_mode != "zeros":
        x = F.pad(x, layer._reversed_padding_repeated_twice, mode=layer.padding_mode)
        padding: Any = 0
    else:
        padding = layer.padding
    conv = F.conv1d if isinstance(layer, QuantizedConv1d) else F.conv2d
    return conv(x, weight, bias, layer.stride, padding, layer.dilation, layer.groups)


def _channel_errors(y: torch.Tensor, target: torch.Tensor, linear: bool) -> torch.Tensor:
    d = (y - target) ** 2
    if linear:
        return d.reshape(-1, d.shape[-1]).sum(0)
    return d.transpose(0, 1).reshape(d.shape[1], -1).sum(1)


def set_weight_ranges_by_output_mse(model: torch.nn.Module, data: Sequence[Any], *,
                                    num_candidates: int = 50, min_ratio: float = 0.2,
                                    layers: Optional[Sequence[str]] = None) -> Dict[str, torch.Tensor]:
    """Set weight ranges layer by layer to minimise each layer's output MSE (module doc).

    ``data``: a sequence of model inputs (batches). Returns, per layer path, the chosen
    clipping ratio per output channel."""
    batches = list(data)
    if not batches:
        raise ValueError("set_weight_ranges_by_output_mse: no calibration data")
    names = list(layers) if layers is not None else output_mse_layers(model)
    if not names:
        raise ValueError("set_weight_ranges_by_output_mse: %s has no quantized linear/conv layer with a "
                         "per-channel weight quantizer" % type(model).__name__)
    modules = dict(model.named_modules())
    targets: Dict[str, List[torch.Tensor]] = {}
    with disable_quantization(model):
        for name in names:
            targets[name] = _capture(model, modules[name], batches, inputs=False)
    alphas = torch.linspace(min_ratio, 1.0, num_candidates)
    chosen: Dict[str, torch.Tensor] = {}
    for name in names:
        layer = modules[name]
        q = layer.weight_quantizer
        inputs = _capture(model, layer, batches, inputs=True)
        with torch.no_grad():
            w = layer.weight.detach()
            m = w.reshape(w.shape[0], -1).abs().amax(1).clamp_min(1e-12)
            best_err = torch.full((w.shape[0],), float("inf"))
            best = torch.ones(w.shape[0])
            for alpha in alphas:
                op = q.operator_for_range(-alpha * m, alpha * m, w.shape)
                wq = _float(op(w))
                err = torch.zeros(w.shape[0])
                for x, target in zip(inputs, targets[name]):
                    iq = layer.input_quantizer
                    usable = not iq.is_stub() and not getattr(iq, "has_uninitialized_params", False)
                    x_in = _float(iq(x)) if usable else x
                    err += _channel_errors(_layer_output(layer, x_in, wq), target, isinstance(layer, QuantizedLinear))
                better = err < best_err
                best_err = torch.where(better, err, best_err)
                best = torch.where(better, alpha.expand_as(best), best)
            q.quantization_range = (-best * m, best * m)
        chosen[name] = best
    return chosen

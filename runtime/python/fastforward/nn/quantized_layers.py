"""Quantized versions of the standard torch layers ffq leaves alone ("known modules").

ffq does not generate classes for these torch modules; the runtime has them here, recorded
in the module map, so ``quantize_model`` converts them. Every quantizer slot starts as a
``QuantizerStub`` carrying its tags:

=====================  =======================================  ==============================
slot                   tags                                     present on
=====================  =======================================  ==============================
``input_quantizer``    ``activation/input``                     all but Embedding, containers
``weight_quantizer``   ``parameter/weight`` (shape=weight)      Linear, Conv*, Embedding,
                                                                LayerNorm (affine)
``bias_quantizer``     ``parameter/bias`` (shape=bias)          Linear, Conv*, LayerNorm; the
                                                                slot is None without a bias
``output_quantizer``   ``activation/output``                    all but containers
=====================  =======================================  ==============================

The list of known modules lives in ``optable/known_modules.txt``; a test checks it against
this module's ``BUILTIN_LAYERS`` and against the list compiled into ffq.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F

from fastforward.nn import functional
from fastforward.nn.quantized_module import QuantizedModule
from fastforward.nn.quantizer import QuantizerStub

__all__ = [
    "BUILTIN_LAYERS",
    "QuantizedConv1d",
    "QuantizedConv2d",
    "QuantizedConvTranspose2d",
    "QuantizedEmbedding",
    "QuantizedGelu",
    "QuantizedLayerNorm",
    "QuantizedLinear",
    "QuantizedModuleDict",
    "QuantizedModuleList",
    "QuantizedParameterDict",
    "QuantizedParameterList",
    "QuantizedRelu",
    "QuantizedSequential",
    "QuantizedSigmoid",
    "QuantizedSilu",
    "QuantizedSoftmax",
]


def _weight_and_bias_slots(module: QuantizedModule, weight: Optional[torch.Tensor],
                           bias: Optional[torch.Tensor]) -> None:
    if weight is not None:
        module.weight_quantizer = QuantizerStub(weight_quantizer=True, shape=tuple(weight.shape))
    else:
        module.register_quantizer("weight_quantizer", None)
    if bias is not None:
        module.bias_quantizer = QuantizerStub(bias_quantizer=True, shape=tuple(bias.shape))
    else:
        module.register_quantizer("bias_quantizer", None)


def _quantized_param(quantizer: Any, value: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    if value is None or quantizer is None:
        return value
    return quantizer(value)


class QuantizedLinear(QuantizedModule, torch.nn.Linear):
    """``nn.Linear`` with input, weight, bias and output quantizers."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, self.weight, self.bias)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        input = self.input_quantizer(input)
        weight = self.weight_quantizer(self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return functional.linear(input, weight, bias, output_quantizer=self.output_quantizer)


class _QuantizedConvNd(QuantizedModule, include_in_module_map=False):
    _op: Any = None

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, self.weight, self.bias)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        padding = self.padding
        if self.padding_mode != "zeros":
            # As torch does: pad explicitly, then convolve without padding. The padded float
            # input is what the input quantizer sees.
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = 0
        input = self.input_quantizer(input)
        weight = self.weight_quantizer(self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return type(self)._op(input, weight, bias, self.stride, padding, self.dilation, self.groups,
                              output_quantizer=self.output_quantizer)


class QuantizedConv1d(_QuantizedConvNd, torch.nn.Conv1d):
    """``nn.Conv1d`` with input, weight, bias and output quantizers."""

    _op = staticmethod(functional.conv1d)


class QuantizedConv2d(_QuantizedConvNd, torch.nn.Conv2d):
    """``nn.Conv2d`` with input, weight, bias and output quantizers."""

    _op = staticmethod(functional.conv2d)


class QuantizedConvTranspose2d(QuantizedModule, torch.nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` with input, weight, bias and output quantizers."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, self.weight, self.bias)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor, output_size: Optional[List[int]] = None) -> torch.Tensor:
        if self.padding_mode != "zeros":
            raise ValueError("Only 'zeros' padding mode is supported for ConvTranspose2d")
        output_padding = self.output_padding
        if output_size is not None:
            try:  # torch >= 2.0 takes num_spatial_dims
                output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                                      self.kernel_size, 2, self.dilation)
            except TypeError:
                output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                                      self.kernel_size, self.dilation)
        input = self.input_quantizer(input)
        weight = self.weight_quantizer(self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return functional.conv_transpose2d(input, weight, bias, self.stride, self.padding, output_padding,
                                           self.groups, self.dilation, output_quantizer=self.output_quantizer)


class QuantizedEmbedding(QuantizedModule, torch.nn.Embedding):
    """``nn.Embedding`` with weight and output quantizers (its input is indices)."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.weight_quantizer = QuantizerStub(weight_quantizer=True, shape=tuple(self.weight.shape))
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        weight = self.weight_quantizer(self.weight)
        return functional.embedding(input, weight, self.padding_idx, self.max_norm, self.norm_type,
                                    self.scale_grad_by_freq, self.sparse, output_quantizer=self.output_quantizer)


class QuantizedLayerNorm(QuantizedModule, torch.nn.LayerNorm):
    """``nn.LayerNorm`` with input, weight, bias and output quantizers (no weight/bias
    quantizer without ``elementwise_affine``)."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, getattr(self, "weight", None), getattr(self, "bias", None))
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        input = self.input_quantizer(input)
        weight = _quantized_param(self.weight_quantizer, self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return functional.layer_norm(input, tuple(self.normalized_shape), weight, bias, self.eps,
                                     output_quantizer=self.output_quantizer)


class _QuantizedActivation(QuantizedModule, include_in_module_map=False):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        # ``inplace`` is left as it is but never used: a quantized op returns a new tensor.
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def _apply_op(self, input: Any) -> Any:
        raise NotImplementedError

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._apply_op(self.input_quantizer(input))


class QuantizedRelu(_QuantizedActivation, torch.nn.ReLU):
    """``nn.ReLU`` with input and output quantizers (never in place)."""

    def _apply_op(self, input: Any) -> Any:
        return functional.relu(input, output_quantizer=self.output_quantizer)


class QuantizedSilu(_QuantizedActivation, torch.nn.SiLU):
    """``nn.SiLU`` with input and output quantizers (never in place)."""

    def _apply_op(self, input: Any) -> Any:
        return functional.silu(input, output_quantizer=self.output_quantizer)


class QuantizedGelu(_QuantizedActivation, torch.nn.GELU):
    """``nn.GELU`` with input and output quantizers."""

    def _apply_op(self, input: Any) -> Any:
        return functional.gelu(input, getattr(self, "approximate", "none"), output_quantizer=self.output_quantizer)


class QuantizedSigmoid(_QuantizedActivation, torch.nn.Sigmoid):
    """``nn.Sigmoid`` with input and output quantizers."""

    def _apply_op(self, input: Any) -> Any:
        return functional.sigmoid(input, output_quantizer=self.output_quantizer)


class QuantizedSoftmax(_QuantizedActivation, torch.nn.Softmax):
    """``nn.Softmax`` with input and output quantizers."""

    def _apply_op(self, input: Any) -> Any:
        dim = self.dim
        if dim is None:
            dim = F._get_softmax_dim("softmax", input.dim(), 5)
        return functional.softmax(input, dim, output_quantizer=self.output_quantizer)


class QuantizedSequential(QuantizedModule, torch.nn.Sequential):
    """``nn.Sequential``; no quantizers of its own."""


class QuantizedModuleList(QuantizedModule, torch.nn.ModuleList):
    """``nn.ModuleList``; no quantizers of its own."""


class QuantizedModuleDict(QuantizedModule, torch.nn.ModuleDict):
    """``nn.ModuleDict``; no quantizers of its own."""


class QuantizedParameterList(QuantizedModule, torch.nn.ParameterList):
    """``nn.ParameterList``; no quantizers of its own."""


class QuantizedParameterDict(QuantizedModule, torch.nn.ParameterDict):
    """``nn.ParameterDict``; no quantizers of its own."""


# torch.nn class -> built-in quantized class. Checked against optable/known_modules.txt.
BUILTIN_LAYERS: Dict[type, type] = {
    torch.nn.Linear: QuantizedLinear,
    torch.nn.Conv1d: QuantizedConv1d,
    torch.nn.Conv2d: QuantizedConv2d,
    torch.nn.ConvTranspose2d: QuantizedConvTranspose2d,
    torch.nn.Embedding: QuantizedEmbedding,
    torch.nn.LayerNorm: QuantizedLayerNorm,
    torch.nn.ReLU: QuantizedRelu,
    torch.nn.SiLU: QuantizedSilu,
    torch.nn.GELU: QuantizedGelu,
    torch.nn.Sigmoid: QuantizedSigmoid,
    torch.nn.Softmax: QuantizedSoftmax,
    torch.nn.Sequential: QuantizedSequential,
    torch.nn.ModuleList: QuantizedModuleList,
    torch.nn.ModuleDict: QuantizedModuleDict,
    torch.nn.ParameterList: QuantizedParameterList,
    torch.nn.ParameterDict: QuantizedParameterDict,
}

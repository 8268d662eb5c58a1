"""fastforward.nn: quantizers, quantized modules and quantized functional operators."""

from fastforward.nn import functional
from fastforward.nn.dynamic_linear_quantizer import DynamicLinearQuantizer
from fastforward.nn.linear_quantizer import AbstractAffineQuantizer, LinearQuantizer
from fastforward.nn.qformat_quantizer import QFormatQuantizer
from fastforward.nn.qop import QOp
from fastforward.nn.quantized_layers import (
    QuantizedConv1d,
    QuantizedConv2d,
    QuantizedConv3d,
    QuantizedConvTranspose2d,
    QuantizedEmbedding,
    QuantizedGelu,
    QuantizedLayerNorm,
    QuantizedLinear,
    QuantizedModuleDict,
    QuantizedModuleList,
    QuantizedParameterDict,
    QuantizedParameterList,
    QuantizedRelu,
    QuantizedSequential,
    QuantizedSigmoid,
    QuantizedSilu,
    QuantizedSoftmax,
)
from fastforward.nn.quantized_module import QuantizedModule, quantize_model, quantized_module_map
from fastforward.nn.quantizer import Quantizer, QuantizerMetadata, QuantizerStub

__all__ = [
    "AbstractAffineQuantizer",
    "DynamicLinearQuantizer",
    "LinearQuantizer",
    "QFormatQuantizer",
    "QOp",
    "QuantizedConv1d",
    "QuantizedConv2d",
    "QuantizedConv3d",
    "QuantizedConvTranspose2d",
    "QuantizedEmbedding",
    "QuantizedGelu",
    "QuantizedLayerNorm",
    "QuantizedLinear",
    "QuantizedModule",
    "QuantizedModuleDict",
    "QuantizedModuleList",
    "QuantizedParameterDict",
    "QuantizedParameterList",
    "QuantizedRelu",
    "QuantizedSequential",
    "QuantizedSigmoid",
    "QuantizedSilu",
    "QuantizedSoftmax",
    "Quantizer",
    "QuantizerMetadata",
    "QuantizerStub",
    "functional",
    "quantize_model",
    "quantized_module_map",
]

"""fastforward.nn: quantizers, quantized modules and quantized functional operators."""

from fastforward.nn import functional
from fastforward.nn.dynamic_linear_quantizer import DynamicLinearQuantizer
from fastforward.nn.linear_quantizer import AbstractAffineQuantizer, LinearQuantizer
from fastforward.nn.quantized_module import QuantizedModule, quantize_model
from fastforward.nn.quantizer import Quantizer, QuantizerMetadata, QuantizerStub

__all__ = [
    "AbstractAffineQuantizer",
    "DynamicLinearQuantizer",
    "LinearQuantizer",
    "QuantizedModule",
    "Quantizer",
    "QuantizerMetadata",
    "QuantizerStub",
    "functional",
    "quantize_model",
]

"""fastforward.nn: quantized modules, quantizers and quantized functional operators."""

from fastforward.nn import functional
from fastforward.nn.quantized_module import QuantizedModule, quantize_model
from fastforward.nn.quantizer import Quantizer, QuantizerStub

__all__ = ["QuantizedModule", "Quantizer", "QuantizerStub", "functional", "quantize_model"]

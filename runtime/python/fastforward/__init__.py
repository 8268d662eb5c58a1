"""fastforward: the Python runtime of ffq-generated quantized modules.

Code that ffq generates uses ``fastforward.nn.QuantizedModule``, ``fastforward.nn.Quantizer``,
``fastforward.nn.QuantizerStub`` and ``fastforward.nn.functional.<op>``. At the top level:

* ``quantize_model(model)`` swaps every submodule that has a generated quantized class;
* ``autoquantize(model, ...)`` runs the ffq compiler on the model's source;
* ``QuantizedTensor`` is quantized data with its scale and offset.
"""

from fastforward import autoquant, nn
from fastforward._autoquantize import autoquantize
from fastforward.nn.quantized_module import quantize_model
from fastforward.quantized_tensor import QuantizedTensor

__version__ = "0.1.0"

__all__ = ["QuantizedTensor", "autoquant", "autoquantize", "nn", "quantize_model"]

"""Quantizer modules.

Generated code routes every tensor it quantizes through a quantizer module:
``x = self.quantizer_x(x)``. A ``Quantizer`` is an ``nn.Module``, so quantizers assigned to
module attributes are registered as submodules (they show up in ``named_modules()``, move
with ``.to()``, and are saved in ``state_dict()``).
"""

import torch

__all__ = ["Quantizer", "QuantizerStub"]


class Quantizer(torch.nn.Module):
    """Base class of quantizers.

    Subclasses implement ``quantize(data)``, which takes a float tensor and returns a
    ``QuantizedTensor``; calling the module calls ``quantize``.
    """

    def forward(self, data):
        return self.quantize(data)

    def quantize(self, data):
        raise NotImplementedError("%s does not implement quantize()" % type(self).__name__)


class QuantizerStub(Quantizer):
    """A placeholder quantizer: returns its input unchanged (the very same object).

    Autoquant puts a stub everywhere a quantizer may go; users later replace the stubs they
    care about with real quantizers. Stubs accept any value, tensor or not.
    """

    def forward(self, data):
        return data

    def quantize(self, data):
        return data

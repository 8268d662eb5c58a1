"""QuantizedModule, the registry of quantized classes, and quantize_model.

A generated class looks like::

    class QuantizedMyLinear(fastforward.nn.QuantizedModule, MyLinear):
        def __init_quantization__(self) -> None:
            super().__init_quantization__()
            self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

        def forward(self, input): ...

Defining it registers ``QuantizedMyLinear`` under its float base ``MyLinear``. Afterwards:

* ``quantize_model(model)`` turns every ``MyLinear`` inside ``model`` into a
  ``QuantizedMyLinear`` in place: it assigns ``__class__`` and calls
  ``__init_quantization__()``, so parameters, buffers and submodules are kept as they are.
* ``QuantizedMyLinear(10, 10)`` builds one directly: ``MyLinear.__init__`` runs first, then
  ``__init_quantization__()``.
"""

import functools

import torch

__all__ = ["QuantizedModule", "quantize_model", "quantized_class_for", "float_base_of"]

# float module class -> quantized class (the most recently defined one wins).
_QUANTIZED_CLASSES = {}


class QuantizedModule(torch.nn.Module):
    """Base class of quantized modules.

    Subclasses override ``__init_quantization__`` to create their quantizers, and start it
    with ``super().__init_quantization__()``.

    Class keyword ``include_in_module_map=False`` keeps a subclass out of the registry that
    ``quantize_model`` uses.
    """

    def __init_subclass__(cls, include_in_module_map=True, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__init__ = _init_then_quantize(cls, cls.__init__)
        if include_in_module_map:
            base = float_base_of(cls)
            if base is not None:
                _QUANTIZED_CLASSES[base] = cls

    def __init_quantization__(self):
        """Create this module's quantizers. The base class has none."""


def _init_then_quantize(cls, init):
    """Wrap ``cls.__init__`` so that ``__init_quantization__`` runs once the object is built.

    Only the wrapper of the object's own class runs it, after the outermost ``__init__`` has
    returned; inherited ``__init__``s called through ``super()`` do not.
    """

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self) is cls:
            self.__init_quantization__()

    return __init__


def float_base_of(quantized_cls):
    """The float class that ``quantized_cls`` quantizes, or None.

    It is the first class after ``QuantizedModule`` in the MRO that is an ``nn.Module``
    subclass other than ``nn.Module`` itself and not a ``QuantizedModule``: for
    ``class QuantizedX(QuantizedModule, X)`` that is ``X``.
    """
    mro = quantized_cls.__mro__
    for base in mro[mro.index(QuantizedModule) + 1 :]:
        if (
            isinstance(base, type)
            and issubclass(base, torch.nn.Module)
            and base is not torch.nn.Module
            and not issubclass(base, QuantizedModule)
        ):
            return base
    return None


def quantized_class_for(float_cls):
    """The registered quantized class for ``float_cls`` (exact class, no subclasses), or None."""
    return _QUANTIZED_CLASSES.get(float_cls)


def quantize_model(model):
    """Swap, in place, every module of ``model`` (``model`` included) that has a quantized class.

    A module is swapped when its exact class has a registered quantized counterpart: its
    ``__class__`` becomes that class and ``__init_quantization__()`` is called. Modules that
    are already quantized are left alone, so calling this twice changes nothing. Returns
    ``model``.
    """
    # Materialise the list first: __init_quantization__ adds submodules (the quantizers).
    for module in list(model.modules()):
        if isinstance(module, QuantizedModule):
            continue
        quantized_cls = quantized_class_for(type(module))
        if quantized_cls is not None:
            module.__class__ = quantized_cls
            module.__init_quantization__()
    return model

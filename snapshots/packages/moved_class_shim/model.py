from typing import Any

import fastforward

from moved_class_shim.blocks import Gate
from moved_class_shim.blocks import Rotary as __ffaq_base_Rotary_1
from moved_class_shim.legacy import OldGate
from moved_class_shim.legacy import Rotary as __ffaq_base_Rotary_0
from moved_class_shim.model import Net


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.rope(x)
        _tmp_2 = self.gate(_tmp_1)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add)


class QuantizedRotary_0(fastforward.nn.QuantizedModule, __ffaq_base_Rotary_0):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, *input: Any) -> None:
        r"""Define the computation performed at every call.

        Should be overridden by all subclasses.

        .. note::
            Although the recipe for forward pass needs to be defined within
            this function, one should call the :class:`Module` instance afterwards
            instead of this since the former takes care of running the
            registered hooks while the latter silently ignores them.
        """
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )


class QuantizedRotary_1(fastforward.nn.QuantizedModule, __ffaq_base_Rotary_1):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cos: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sin: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_3 = fastforward.nn.functional.cos(x, output_quantizer=self.quantizer_cos)
        _tmp_4 = fastforward.nn.functional.sin(x, output_quantizer=self.quantizer_sin)
        _tmp_5 = fastforward.nn.functional.cat(
            [_tmp_3, _tmp_4], dim=-1, output_quantizer=self.quantizer_cat
        )
        return fastforward.nn.functional.mul(_tmp_5, 0.5, output_quantizer=self.quantizer_mul)


class QuantizedOldGate(fastforward.nn.QuantizedModule, OldGate):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, *input: Any) -> None:
        r"""Define the computation performed at every call.

        Should be overridden by all subclasses.

        .. note::
            Although the recipe for forward pass needs to be defined within
            this function, one should call the :class:`Module` instance afterwards
            instead of this since the former takes care of running the
            registered hooks while the latter silently ignores them.
        """
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )


class QuantizedGate(fastforward.nn.QuantizedModule, Gate):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_6 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        return fastforward.nn.functional.mul(x, _tmp_6, output_quantizer=self.quantizer_mul)

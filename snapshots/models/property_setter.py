from typing import Any

import fastforward
import torch

from models.property_setter import Base, Head


class QuantizedBase(fastforward.nn.QuantizedModule, Base):
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


class QuantizedHead(fastforward.nn.QuantizedModule, Head):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.quantizer_x(x)
        _tmp_1 = self.scale_fn(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.mul(_tmp_1, x, output_quantizer=self.quantizer_mul)

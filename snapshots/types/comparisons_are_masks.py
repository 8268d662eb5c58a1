import fastforward
import torch

from types.comparisons_are_masks import Masks


class QuantizedMasks(fastforward.nn.QuantizedModule, Masks):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bitwise_not: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_and: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_or: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y: torch.Tensor, n: int):
        y_0 = self.quantizer_y_0(y == 0)
        keep = fastforward.nn.functional.bitwise_not(
            (y_0), output_quantizer=self.quantizer_bitwise_not
        )
        x_0 = self.quantizer_x_0(x > 0)
        both = fastforward.nn.functional.bitwise_and(
            (x_0), keep, output_quantizer=self.quantizer_bitwise_and
        )
        y_1 = self.quantizer_y_1(y < 1)
        either = fastforward.nn.functional.bitwise_or(
            (y_1), both, output_quantizer=self.quantizer_bitwise_or
        )
        small = n > 1
        flags = small & (n is not None)
        inside = (n in (1, 2)) ^ small
        return both, either, flags, inside

import fastforward
import torch

from statements.nested_function_not_analysed import Nested


class QuantizedNested(fastforward.nn.QuantizedModule, Nested):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)

        def inner(t):
            return torch.relu(t)

        _tmp_1 = inner(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.add(_tmp_1, x, output_quantizer=self.quantizer_add)

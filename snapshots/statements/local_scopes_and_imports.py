import fastforward
import torch

from statements.local_scopes_and_imports import Model, scale, width


def quantized_helper(
    x, *, quantizer_add: fastforward.nn.Quantizer, quantizer__tmp_1: fastforward.nn.Quantizer
):
    def inner(y):
        width = 3
        return y * width

    _tmp_1 = inner(x)
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    return fastforward.nn.functional.add(_tmp_1, width, output_quantizer=quantizer_add)


class QuantizedModel(fastforward.nn.QuantizedModule, Model):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        f = lambda scale: torch.relu(x) * scale
        _tmp_2 = f(3.0)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.add(_tmp_2, scale, output_quantizer=self.quantizer_add_1)
        _tmp_4 = quantized_helper(
            x,
            quantizer_add=self.quantizer_helper_add,
            quantizer__tmp_1=self.quantizer_helper__tmp_1,
        )
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add_2)

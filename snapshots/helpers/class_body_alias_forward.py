import fastforward
from torch import nn

from helpers.class_body_alias_forward import UsesAlias


class QuantizedUsesAlias(fastforward.nn.QuantizedModule, UsesAlias):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_scale: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self: nn.Module, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        self_scale = self.quantizer_self_scale(self.scale)
        return fastforward.nn.functional.mul(
            _tmp_1, self_scale, output_quantizer=self.quantizer_mul
        )

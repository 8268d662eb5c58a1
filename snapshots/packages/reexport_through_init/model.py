import fastforward

from reexport_through_init.layers.blocks import Block
from reexport_through_init.model import Net


def quantized_scale(
    x,
    s: float,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_s: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    s = quantizer_s(s)
    return fastforward.nn.functional.mul(x, s, output_quantizer=quantizer_mul)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_scale_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.block(x)
        return quantized_scale(
            _tmp_1,
            0.5,
            quantizer_mul=self.quantizer_scale_mul,
            quantizer_x=self.quantizer_scale_x,
            quantizer_s=self.quantizer_scale_s,
        )


class QuantizedBlock(fastforward.nn.QuantizedModule, Block):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_2 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.mul(_tmp_2, 2, output_quantizer=self.quantizer_mul)

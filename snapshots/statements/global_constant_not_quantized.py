import fastforward

from statements.global_constant_not_quantized import SCALE, Const


class QuantizedConst(fastforward.nn.QuantizedModule, Const):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.mul(x, SCALE, output_quantizer=self.quantizer_mul)

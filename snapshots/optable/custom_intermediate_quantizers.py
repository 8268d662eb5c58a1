import fastforward

from optable.custom_intermediate_quantizers import Fused


class QuantizedFused(fastforward.nn.QuantizedModule, Fused):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_fused: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        return fastforward.nn.functional.fused(
            x,
            y,
            quantizer_a=self.quantizer_a,
            mid=self.quantizer_mid,
            output_quantizer=self.quantizer_fused,
        )

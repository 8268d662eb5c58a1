import fastforward

from ops.interpolate import Interpolate


class QuantizedInterpolate(fastforward.nn.QuantizedModule, Interpolate):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_interpolate: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.interpolate(
            input, output_quantizer=self.quantizer_interpolate
        )
        return r0

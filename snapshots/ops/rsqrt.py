import fastforward

from ops.rsqrt import Rsqrt


class QuantizedRsqrt(fastforward.nn.QuantizedModule, Rsqrt):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_rsqrt: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.rsqrt(input, output_quantizer=self.quantizer_rsqrt)
        return r0

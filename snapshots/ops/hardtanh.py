import fastforward

from ops.hardtanh import Hardtanh


class QuantizedHardtanh(fastforward.nn.QuantizedModule, Hardtanh):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_hardtanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.hardtanh(input, output_quantizer=self.quantizer_hardtanh)
        return r0

import fastforward

from statements.semicolons_split import Semi


class QuantizedSemi(fastforward.nn.QuantizedModule, Semi):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        b = fastforward.nn.functional.mul(a, 2, output_quantizer=self.quantizer_mul)
        return b

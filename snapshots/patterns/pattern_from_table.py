import fastforward

from patterns.pattern_from_table import FromTable


class QuantizedFromTable(fastforward.nn.QuantizedModule, FromTable):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)

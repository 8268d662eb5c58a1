import fastforward

from types.augmented_assignment_on_int import Count


class QuantizedCount(fastforward.nn.QuantizedModule, Count):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, n: int):
        x = self.quantizer_x(x)
        n += 1
        n = self.quantizer_n(n)
        x = fastforward.nn.functional.add(x, x, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.mul(x, n, output_quantizer=self.quantizer_mul)

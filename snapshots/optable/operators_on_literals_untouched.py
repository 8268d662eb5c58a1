import fastforward

from optable.operators_on_literals_untouched import Literals


class QuantizedLiterals(fastforward.nn.QuantizedModule, Literals):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        k = -1 + 2 // 3
        k = self.quantizer_k(k)
        return fastforward.nn.functional.mul(x, k, output_quantizer=self.quantizer_mul)

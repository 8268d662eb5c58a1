import fastforward

from ops.matmul import Matmul


class QuantizedMatmul(fastforward.nn.QuantizedModule, Matmul):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_matmul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.matmul(input, other, output_quantizer=self.quantizer_matmul)
        return r0

import fastforward

from helpers.cycle_without_quantizers_silent import Parity, even


class QuantizedParity(fastforward.nn.QuantizedModule, Parity):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, n: int):
        x = self.quantizer_x(x)
        if even(n):
            return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)

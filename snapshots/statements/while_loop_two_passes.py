import fastforward

from statements.while_loop_two_passes import Halve


class QuantizedHalve(fastforward.nn.QuantizedModule, Halve):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        n = x.numel()
        while n > 1:
            x = fastforward.nn.functional.div(x, 2, output_quantizer=self.quantizer_div)
            n = n // 2
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)

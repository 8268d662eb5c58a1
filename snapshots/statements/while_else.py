import fastforward

from statements.while_else import WhileElse


class QuantizedWhileElse(fastforward.nn.QuantizedModule, WhileElse):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        while x.sum() > 0:
            x = fastforward.nn.functional.sub(x, 1, output_quantizer=self.quantizer_sub)
        else:
            x = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)

import fastforward

from basic.two_space_indentation import Two


class QuantizedTwo(fastforward.nn.QuantizedModule, Two):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        if x.sum() > 0:
            y = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        else:
            y = x
            y = self.quantizer_y(y)
        """doc
  string"""
        return fastforward.nn.functional.mul(y, 2, output_quantizer=self.quantizer_mul)

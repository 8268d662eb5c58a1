import fastforward

from patterns.pattern_nested_matches import Nested


class QuantizedNested(fastforward.nn.QuantizedModule, Nested):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu_1)
        _tmp_2 = fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.relu(_tmp_2, output_quantizer=self.quantizer_relu_2)

import fastforward

from helpers.instance_method_shares_group import TwoMethods


class QuantizedTwoMethods(fastforward.nn.QuantizedModule, TwoMethods):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.prepare(x)
        x = self.quantizer_x_1(x)
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)

    def prepare(self, x):
        x = self.quantizer_x_2(x)
        return fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)

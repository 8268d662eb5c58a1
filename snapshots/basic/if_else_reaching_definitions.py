import fastforward

from basic.if_else_reaching_definitions import Branchy


class QuantizedBranchy(fastforward.nn.QuantizedModule, Branchy):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        if flag:
            y = x.exp()
            y = self.quantizer_y_1(y)
        else:
            y = x.abs()
            y = self.quantizer_y_2(y)
        return fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)

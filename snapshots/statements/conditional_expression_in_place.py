import fastforward

from statements.conditional_expression_in_place import Cond


class QuantizedCond(fastforward.nn.QuantizedModule, Cond):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        x = self.quantizer_x(x)
        y = (
            fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
            if flag
            else fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        )
        y = self.quantizer_y(y)
        return fastforward.nn.functional.add(y, 1, output_quantizer=self.quantizer_add)

import fastforward

from submodules.module_list_and_dict import Block, Stack


class QuantizedBlock(fastforward.nn.QuantizedModule, Block):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        return fastforward.nn.functional.mul(x, _tmp_1, output_quantizer=self.quantizer_mul)


class QuantizedStack(fastforward.nn.QuantizedModule, Stack):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x_2(x)
        for layer in self.layers:
            x = layer(x)
            x = self.quantizer_x_1(x)
        _tmp_2 = self.named["first"](x)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, x, output_quantizer=self.quantizer_add)

import fastforward

from basic.nested_calls_isolated import Block


class QuantizedBlock(fastforward.nn.QuantizedModule, Block):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        # the submodule call feeds relu: it is isolated into a temporary
        _tmp_1 = self.fc(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = fastforward.nn.functional.relu(_tmp_1, output_quantizer=self.quantizer_relu)
        h = fastforward.nn.functional.add(_tmp_2, x, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.mul(h, 2, output_quantizer=self.quantizer_mul)

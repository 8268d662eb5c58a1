import fastforward

from models.container_self_use import DenseBlock, Head, Layer, Net, Stack


class QuantizedLayer(fastforward.nn.QuantizedModule, Layer):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, feats):
        x = fastforward.nn.functional.cat(feats, 1, output_quantizer=self.quantizer_cat)
        _tmp_1 = self.conv(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.relu(_tmp_1, output_quantizer=self.quantizer_relu)


class QuantizedDenseBlock(fastforward.nn.QuantizedModule, DenseBlock):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()


class QuantizedStack(fastforward.nn.QuantizedModule, Stack):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, input):
        """
        Runs the forward pass.
        """
        for module in self:
            input = module(input)
        return input


class QuantizedHead(fastforward.nn.QuantizedModule, Head):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = self.stack(x)
        _tmp_3 = self.head(_tmp_2)
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        return fastforward.nn.functional.mul(_tmp_3, 2, output_quantizer=self.quantizer_mul)

import fastforward

from submodules.base_init_registers_submodules import Child, Inner


class QuantizedChild(fastforward.nn.QuantizedModule, Child):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = self.inner(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.mul(_tmp_1, x, output_quantizer=self.quantizer_mul)


class QuantizedInner(fastforward.nn.QuantizedModule, Inner):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_tanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.tanh(x, output_quantizer=self.quantizer_tanh)

import fastforward

from submodules.submodule_result_requantized import TwoLayers


class QuantizedTwoLayers(fastforward.nn.QuantizedModule, TwoLayers):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        h = self.l1(x)
        h = self.quantizer_h(h)
        _tmp_1 = self.l2(h)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        h = fastforward.nn.functional.add(_tmp_1, h, output_quantizer=self.quantizer_add)
        return h

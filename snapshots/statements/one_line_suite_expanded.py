import fastforward

from statements.one_line_suite_expanded import OneLine


class QuantizedOneLine(fastforward.nn.QuantizedModule, OneLine):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        if flag:
            _tmp_1 = x.abs()
            _tmp_1 = self.quantizer__tmp_1(_tmp_1)
            return fastforward.nn.functional.relu(_tmp_1, output_quantizer=self.quantizer_relu)
        return x

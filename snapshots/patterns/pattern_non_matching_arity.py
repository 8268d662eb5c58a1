import fastforward

from patterns.pattern_non_matching_arity import ThreeArgs


class QuantizedThreeArgs(fastforward.nn.QuantizedModule, ThreeArgs):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_linear: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_softmax: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, w, b):
        x = self.quantizer_x(x)
        w = self.quantizer_w(w)
        b = self.quantizer_b(b)
        # three arguments and a keyword: neither call matches the two-argument pattern
        y = fastforward.nn.functional.linear(x, w, b, output_quantizer=self.quantizer_linear)
        return fastforward.nn.functional.softmax(y, dim=1, output_quantizer=self.quantizer_softmax)

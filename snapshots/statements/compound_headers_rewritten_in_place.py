import fastforward

from statements.compound_headers_rewritten_in_place import Headers


class QuantizedHeaders(fastforward.nn.QuantizedModule, Headers):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sum_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sum_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, xs, x):
        x = self.quantizer_x(x)
        if fastforward.nn.functional.sum(x, output_quantizer=self.quantizer_sum_1) > 0:
            x = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)
        for y in fastforward.nn.functional.cat([xs, xs], output_quantizer=self.quantizer_cat):
            y = self.quantizer_y(y)
            x = fastforward.nn.functional.add(x, y, output_quantizer=self.quantizer_add)
        while fastforward.nn.functional.sum(x, output_quantizer=self.quantizer_sum_2) > 100:
            x = fastforward.nn.functional.div(x, 2, output_quantizer=self.quantizer_div)
        return x

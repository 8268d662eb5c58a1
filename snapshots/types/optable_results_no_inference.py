import fastforward

from types.optable_results_no_inference import TableResults


class QuantizedTableResults(fastforward.nn.QuantizedModule, TableResults):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        y = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        _tmp_1 = y.size(0)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        n = fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul_1)
        _tmp_2 = fastforward.nn.functional.sigmoid(y, output_quantizer=self.quantizer_sigmoid)
        z = fastforward.nn.functional.mul(_tmp_2, n, output_quantizer=self.quantizer_mul_2)
        return fastforward.nn.functional.add(z, y, output_quantizer=self.quantizer_add)

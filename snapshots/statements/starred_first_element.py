import fastforward

from statements.starred_first_element import Starred


class QuantizedStarred(fastforward.nn.QuantizedModule, Starred):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        y = self.lin(x)
        y = self.quantizer_y(y)
        _tmp_1 = y.size()
        shape = [*_tmp_1[:-1]]
        _tmp_2 = fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)
        rows = [*_tmp_2]
        dims = {*y.shape[:-1]}
        _tmp_3 = fastforward.nn.functional.sigmoid(y, output_quantizer=self.quantizer_sigmoid)
        _tmp_4 = _tmp_3.unbind(0)
        joined = fastforward.nn.functional.cat([*_tmp_4], output_quantizer=self.quantizer_cat)
        pair = *y.shape[:-1], 2
        return shape, rows, dims, joined, pair

import fastforward

from statements.hoisted_variable_avoids_taken_names import Taken, w_T


class QuantizedTaken(fastforward.nn.QuantizedModule, Taken):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_matmul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w_T: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, w):
        x = self.quantizer_x(x)
        self_w = fastforward.nn.functional.mul(x, 3, output_quantizer=self.quantizer_mul_1)
        self_w_1 = self.quantizer_self_w(self.w)
        y = fastforward.nn.functional.add(self_w, self_w_1, output_quantizer=self.quantizer_add_1)
        w_T_1 = self.quantizer_w_T(w.T)
        _tmp_1 = fastforward.nn.functional.matmul(y, w_T_1, output_quantizer=self.quantizer_matmul)
        z = fastforward.nn.functional.mul(_tmp_1, w_T, output_quantizer=self.quantizer_mul_2)
        return fastforward.nn.functional.add(z, self_w, output_quantizer=self.quantizer_add_2)

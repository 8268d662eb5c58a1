import fastforward

from statements.augmented_assignment_all_targets import Aug


class QuantizedAug(fastforward.nn.QuantizedModule, Aug):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_idx: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_acc: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y, idx):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        x = fastforward.nn.functional.add(x, y, output_quantizer=self.quantizer_add_1)
        _tmp_1 = fastforward.nn.functional.sigmoid(y, output_quantizer=self.quantizer_sigmoid)
        x = fastforward.nn.functional.mul(x, _tmp_1, output_quantizer=self.quantizer_mul)
        self_acc = self.quantizer_self_acc(self.acc)
        self.acc = fastforward.nn.functional.add(self_acc, x, output_quantizer=self.quantizer_add_2)
        y[idx] = fastforward.nn.functional.sub(
            self.quantizer_y_idx(y[idx]), x, output_quantizer=self.quantizer_sub
        )
        return x, y

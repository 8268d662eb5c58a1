import fastforward

from statements.hoisted_texts_with_one_ident import Masks


class QuantizedMasks(fastforward.nn.QuantizedModule, Masks):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_labels_1_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_labels_1_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_z: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y, z, labels):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        z = self.quantizer_z(z)
        labels_1_1 = self.quantizer_labels_1_1(labels != 1)
        a = fastforward.nn.functional.mul(x, (labels_1_1), output_quantizer=self.quantizer_mul_1)
        labels_1_2 = self.quantizer_labels_1_2(labels == 1)
        b = fastforward.nn.functional.mul(y, (labels_1_2), output_quantizer=self.quantizer_mul_2)
        c = fastforward.nn.functional.mul(z, (labels_1_1), output_quantizer=self.quantizer_mul_3)
        _tmp_1 = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add_1)
        return fastforward.nn.functional.add(_tmp_1, c, output_quantizer=self.quantizer_add_2)

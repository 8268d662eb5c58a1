import fastforward

from models.attribute_reassigned import Acc


class QuantizedAcc(fastforward.nn.QuantizedModule, Acc):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_acc: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        s = x.sum()
        s = self.quantizer_s(s)
        self.acc = fastforward.nn.functional.add(
            self.quantizer_self_acc(self.acc), s, output_quantizer=self.quantizer_add_1
        )
        return fastforward.nn.functional.add(
            x, self.quantizer_self_acc(self.acc), output_quantizer=self.quantizer_add_2
        )

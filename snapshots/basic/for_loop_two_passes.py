import fastforward

from basic.for_loop_two_passes import Accumulate


class QuantizedAccumulate(fastforward.nn.QuantizedModule, Accumulate):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_acc: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, xs):
        acc = xs[0].clone()
        acc = self.quantizer_acc(acc)
        for x in xs:
            x = self.quantizer_x(x)
            acc = fastforward.nn.functional.add(acc, x, output_quantizer=self.quantizer_add)
        return acc

import fastforward

from basic.class_name_taken_by_input import Foo, QuantizedFoo


class QuantizedFoo_1(fastforward.nn.QuantizedModule, Foo):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_twice_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_twice_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = QuantizedFoo_1.twice(
            x, quantizer_mul=self.quantizer_twice_mul, quantizer_x=self.quantizer_twice_x
        )
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.add(_tmp_1, 1, output_quantizer=self.quantizer_add)

    @staticmethod
    def twice(x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer):
        x = quantizer_x(x)
        return fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)


class QuantizedQuantizedFoo(fastforward.nn.QuantizedModule, QuantizedFoo):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)

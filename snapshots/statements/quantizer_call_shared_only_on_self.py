import fastforward

from statements.quantizer_call_shared_only_on_self import Me, Self


class QuantizedMe(fastforward.nn.QuantizedModule, Me):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(me, x):
        return fastforward.nn.functional.mul(
            me.quantizer_x_0(x[0]), me.quantizer_x_0(x[0]), output_quantizer=me.quantizer_mul
        )


class QuantizedSelf(fastforward.nn.QuantizedModule, Self):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.quantizer_x_0(x[0])
        return fastforward.nn.functional.mul(_tmp_1, _tmp_1, output_quantizer=self.quantizer_mul)

import fastforward

from helpers.classmethod_calls_staticmethod_via_cls import Chain


class QuantizedChain(fastforward.nn.QuantizedModule, Chain):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_build_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_build__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_build_scale_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_build_scale_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        return self.build(
            x,
            quantizer_add=self.quantizer_build_add,
            quantizer__tmp_1=self.quantizer_build__tmp_1,
            quantizer_scale_mul=self.quantizer_build_scale_mul,
            quantizer_scale_x=self.quantizer_build_scale_x,
        )

    @classmethod
    def build(
        cls,
        x,
        *,
        quantizer_add: fastforward.nn.Quantizer,
        quantizer__tmp_1: fastforward.nn.Quantizer,
        quantizer_scale_mul: fastforward.nn.Quantizer,
        quantizer_scale_x: fastforward.nn.Quantizer,
    ):
        _tmp_1 = cls.scale(x, quantizer_mul=quantizer_scale_mul, quantizer_x=quantizer_scale_x)
        _tmp_1 = quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.add(_tmp_1, 1, output_quantizer=quantizer_add)

    @staticmethod
    def scale(x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer):
        x = quantizer_x(x)
        return fastforward.nn.functional.mul(x, 3, output_quantizer=quantizer_mul)

import fastforward
import torch

from models.module_alias_call import M


def quantized_helper(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)


class QuantizedM(fastforward.nn.QuantizedModule, M):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        s = torch.tensor([1.0, 2.0, 3.0, 4.0])
        s = self.quantizer_s(s)
        y = [
            fastforward.nn.functional.mul(
                x, self.quantizer_k(k), output_quantizer=self.quantizer_mul_1
            )
            for k in range(2)
        ]
        _tmp_1 = quantized_helper(
            x, quantizer_mul=self.quantizer_helper_mul, quantizer_x=self.quantizer_helper_x
        )
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = fastforward.nn.functional.mul(
            s, self.quantizer_y_0(y[0]), output_quantizer=self.quantizer_mul_2
        )
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add)

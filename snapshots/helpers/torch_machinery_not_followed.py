import fastforward
import torch

from helpers.torch_machinery_not_followed import Device


class QuantizedDevice(fastforward.nn.QuantizedModule, Device):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x_2(x)
        if torch.cuda.is_available() and torch.cuda.device_count() > 8:
            x = x.cuda()
            x = self.quantizer_x_1(x)
        if torch.jit.is_scripting():
            x = fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add)
        _tmp_1 = self.proj(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)

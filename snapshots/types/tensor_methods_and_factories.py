import fastforward
import torch

from types.tensor_methods_and_factories import Factories


class QuantizedFactories(fastforward.nn.QuantizedModule, Factories):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_r: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_u: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        y = x.view(-1).float()
        z = fastforward.nn.functional.add(torch.zeros(6), 1, output_quantizer=self.quantizer_add_1)
        r = torch.arange(6)
        r = self.quantizer_r(r)
        w = torch.tensor([1.0, 2.0]).sum()
        w = self.quantizer_w(w)
        u = y.unsqueeze(0).squeeze(0)
        u = self.quantizer_u(u)
        _tmp_1 = fastforward.nn.functional.mul(u, z, output_quantizer=self.quantizer_mul)
        _tmp_2 = fastforward.nn.functional.add(_tmp_1, r, output_quantizer=self.quantizer_add_2)
        return fastforward.nn.functional.add(_tmp_2, w, output_quantizer=self.quantizer_add_3)

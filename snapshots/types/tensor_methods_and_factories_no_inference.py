import fastforward
import torch

from types.tensor_methods_and_factories_no_inference import Factories


class QuantizedFactories(fastforward.nn.QuantizedModule, Factories):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_r: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_u: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = x.view(-1)
        y = _tmp_1.float()
        _tmp_2 = torch.zeros(6)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        z = fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add_1)
        r = torch.arange(6)
        r = self.quantizer_r(r)
        _tmp_3 = torch.tensor([1.0, 2.0])
        w = _tmp_3.sum()
        w = self.quantizer_w(w)
        _tmp_4 = y.unsqueeze(0)
        u = _tmp_4.squeeze(0)
        u = self.quantizer_u(u)
        _tmp_5 = fastforward.nn.functional.mul(u, z, output_quantizer=self.quantizer_mul)
        _tmp_6 = fastforward.nn.functional.add(_tmp_5, r, output_quantizer=self.quantizer_add_2)
        return fastforward.nn.functional.add(_tmp_6, w, output_quantizer=self.quantizer_add_3)

import fastforward
import torch

from ops.copy_changed_in_place_is_float import Decode


class QuantizedDecode(fastforward.nn.QuantizedModule, Decode):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_0_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, kpts):
        y = kpts.clone()
        y = fastforward.nn.functional.dequantized(y)
        y[:, 2::3] = y[:, 2::3].sigmoid()
        _tmp_1 = fastforward.nn.functional.mul(
            self.quantizer_y_0_3(y[:, 0::3]), 2.0, output_quantizer=self.quantizer_mul_1
        )
        y[:, 0::3] = fastforward.nn.functional.add(_tmp_1, 0.5, output_quantizer=self.quantizer_add)
        acc = torch.zeros_like(kpts)
        acc.add_(y)
        return fastforward.nn.functional.mul(acc, 2, output_quantizer=self.quantizer_mul_2)

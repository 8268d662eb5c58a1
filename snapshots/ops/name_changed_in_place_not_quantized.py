import fastforward
import torch

from ops.name_changed_in_place_not_quantized import SineTable


class QuantizedSineTable(fastforward.nn.QuantizedModule, SineTable):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_acc_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, scale):
        scale.clamp_(min=1e-6)
        dim_t = torch.arange(self.dim, dtype=torch.float32)
        dim_t //= 2
        dim_t.mul_(2 / self.dim)
        _tmp_1 = fastforward.nn.functional.pow(10000, dim_t, output_quantizer=self.quantizer_pow)
        dim_t.copy_(_tmp_1)
        acc = torch.zeros_like(x)
        for _ in range(2):
            acc.add_(x)
            acc = acc * 0.5
        _tmp_2 = fastforward.nn.functional.div(
            self.quantizer_x_None(x[..., None]), dim_t, output_quantizer=self.quantizer_div
        )
        _tmp_3 = fastforward.nn.functional.mul(_tmp_2, scale, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.add(
            _tmp_3, self.quantizer_acc_None(acc[..., None]), output_quantizer=self.quantizer_add
        )

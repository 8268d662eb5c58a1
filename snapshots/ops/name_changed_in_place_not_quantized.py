import fastforward
import torch

from ops.name_changed_in_place_not_quantized import SineTable


class QuantizedSineTable(fastforward.nn.QuantizedModule, SineTable):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_acc_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scale: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, scale):
        scale = self.quantizer_scale(scale)
        dim_t = torch.arange(self.dim, dtype=torch.float32)
        dim_t //= 2
        dim_t.mul_(2 / self.dim)
        _tmp_1 = fastforward.nn.functional.pow(10000, dim_t, output_quantizer=self.quantizer_pow)
        dim_t.copy_(_tmp_1)
        acc = torch.zeros_like(x)
        for _ in range(2):
            acc.add_(x)
            acc = acc * 0.5
            acc = fastforward.nn.functional.dequantized(acc)
        scaled = x * scale
        scaled = fastforward.nn.functional.dequantized(scaled)
        scaled[..., :2] = fastforward.nn.functional.mul(
            self.quantizer_scaled_2(scaled[..., :2]), 0.5, output_quantizer=self.quantizer_mul_1
        )
        _tmp_2 = fastforward.nn.functional.div(
            self.quantizer_x_None(x[..., None]), dim_t, output_quantizer=self.quantizer_div
        )
        _tmp_3 = fastforward.nn.functional.mul(_tmp_2, scale, output_quantizer=self.quantizer_mul_2)
        _tmp_4 = fastforward.nn.functional.add(
            _tmp_3, self.quantizer_acc_None(acc[..., None]), output_quantizer=self.quantizer_add_1
        )
        return fastforward.nn.functional.add(
            _tmp_4,
            self.quantizer_scaled_None(scaled[..., None]),
            output_quantizer=self.quantizer_add_2,
        )

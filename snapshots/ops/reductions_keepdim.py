import fastforward
import torch

from ops.reductions_keepdim import Reduce


class QuantizedReduce(fastforward.nn.QuantizedModule, Reduce):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sum_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sum_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sum_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cumsum: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.sum(
            x, -1, keepdim=True, output_quantizer=self.quantizer_sum_1
        )
        b = fastforward.nn.functional.sum(x, (1, 2), True, output_quantizer=self.quantizer_sum_2)
        c = fastforward.nn.functional.sum(
            x, dtype=torch.float64, output_quantizer=self.quantizer_sum_3
        )
        d = fastforward.nn.functional.mean(x, -1, True, output_quantizer=self.quantizer_mean_1)
        e = fastforward.nn.functional.mean(
            x,
            dim=(0, 2),
            keepdim=False,
            dtype=torch.float64,
            output_quantizer=self.quantizer_mean_2,
        )
        f = fastforward.nn.functional.mean(
            x, dim=1, keepdim=True, output_quantizer=self.quantizer_mean_3
        )
        g = fastforward.nn.functional.cumsum(
            x, 1, dtype=torch.float64, output_quantizer=self.quantizer_cumsum
        )
        h = fastforward.nn.functional.mean(x, output_quantizer=self.quantizer_mean_4)
        return a, b, c, d, e, f, g, h

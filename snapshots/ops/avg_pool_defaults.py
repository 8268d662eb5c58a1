import fastforward

from ops.avg_pool_defaults import Pools


class QuantizedPools(fastforward.nn.QuantizedModule, Pools):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_avg_pool2d_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_avg_pool2d_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_avg_pool2d_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_avg_pool1d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_avg_pool3d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.avg_pool2d(x, 2, output_quantizer=self.quantizer_avg_pool2d_1)
        b = fastforward.nn.functional.avg_pool2d(
            x, 3, padding=1, divisor_override=4, output_quantizer=self.quantizer_avg_pool2d_2
        )
        c = fastforward.nn.functional.avg_pool2d(
            x, 3, None, 1, False, False, 5, output_quantizer=self.quantizer_avg_pool2d_3
        )
        d = fastforward.nn.functional.avg_pool1d(
            self.quantizer_x_0(x[0]), kernel_size=3, output_quantizer=self.quantizer_avg_pool1d
        )
        e = fastforward.nn.functional.avg_pool3d(
            self.quantizer_x_None(x[None]),
            2,
            divisor_override=3,
            output_quantizer=self.quantizer_avg_pool3d,
        )
        return a, b, c, d, e

import fastforward

from ops.adaptive_pool_pixel_shuffle import Heads


class QuantizedHeads(fastforward.nn.QuantizedModule, Heads):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_adaptive_avg_pool2d_1: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_adaptive_avg_pool2d_2: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_adaptive_avg_pool1d: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_adaptive_avg_pool3d: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_pixel_shuffle: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_pixel_unshuffle: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_None: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.adaptive_avg_pool2d(
            x, 1, output_quantizer=self.quantizer_adaptive_avg_pool2d_1
        )
        b = fastforward.nn.functional.adaptive_avg_pool2d(
            x, output_size=(3, None), output_quantizer=self.quantizer_adaptive_avg_pool2d_2
        )
        _tmp_1 = x.flatten(2)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        c = fastforward.nn.functional.adaptive_avg_pool1d(
            _tmp_1, 5, output_quantizer=self.quantizer_adaptive_avg_pool1d
        )
        d = fastforward.nn.functional.adaptive_avg_pool3d(
            self.quantizer_x_None(x[None]),
            (2, 2, 2),
            output_quantizer=self.quantizer_adaptive_avg_pool3d,
        )
        e = fastforward.nn.functional.pixel_shuffle(
            x, 2, output_quantizer=self.quantizer_pixel_shuffle
        )
        f = fastforward.nn.functional.pixel_unshuffle(
            x, downscale_factor=2, output_quantizer=self.quantizer_pixel_unshuffle
        )
        return a, b, c, d, e, f

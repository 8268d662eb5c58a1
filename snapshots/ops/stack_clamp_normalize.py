import fastforward

from ops.stack_clamp_normalize import Mix


class QuantizedMix(fastforward.nn.QuantizedModule, Mix):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_stack_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_stack_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_clamp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_clamp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_clamp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_normalize_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_normalize_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_cat_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        a = fastforward.nn.functional.stack([x, y], dim=1, output_quantizer=self.quantizer_stack_1)
        b = fastforward.nn.functional.stack((x, y), output_quantizer=self.quantizer_stack_2)
        c = fastforward.nn.functional.clamp(x, min=-0.5, output_quantizer=self.quantizer_clamp_1)
        d = fastforward.nn.functional.clamp(x, -1.0, 1.0, output_quantizer=self.quantizer_clamp_2)
        e = fastforward.nn.functional.clamp(x, max=y, output_quantizer=self.quantizer_clamp_3)
        f = fastforward.nn.functional.normalize(
            x, dim=-1, output_quantizer=self.quantizer_normalize_1
        )
        g = fastforward.nn.functional.normalize(
            y, p=1.0, dim=0, eps=1e-6, output_quantizer=self.quantizer_normalize_2
        )
        h = fastforward.nn.functional.cat([x, y], dim=-1, output_quantizer=self.quantizer_cat_1)
        i = fastforward.nn.functional.cat((x, y), dim=0, output_quantizer=self.quantizer_cat_2)
        return a, b, c, d, e, f, g, h, i

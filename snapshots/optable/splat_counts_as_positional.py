import fastforward
import torch

from optable.splat_counts_as_positional import Splats


class QuantizedSplats(fastforward.nn.QuantizedModule, Splats):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_softmax: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        opts = {"dim": -1}
        a = fastforward.nn.functional.softmax(x, **opts, output_quantizer=self.quantizer_softmax)
        b = fastforward.nn.functional.add(x, y, **{"alpha": 2}, output_quantizer=self.quantizer_add)
        xs = [a, b]
        c = fastforward.nn.functional.relu(*xs[:1], output_quantizer=self.quantizer_relu)
        d = torch.add(*xs)
        return a, b, c, d

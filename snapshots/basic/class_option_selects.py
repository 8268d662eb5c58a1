import fastforward

from basic.class_option_selects import Wanted


class QuantizedWanted(fastforward.nn.QuantizedModule, Wanted):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)

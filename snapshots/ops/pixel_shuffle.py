import fastforward

from ops.pixel_shuffle import PixelShuffle


class QuantizedPixelShuffle(fastforward.nn.QuantizedModule, PixelShuffle):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_pixel_shuffle: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.pixel_shuffle(
            input, 1, output_quantizer=self.quantizer_pixel_shuffle
        )
        return r0

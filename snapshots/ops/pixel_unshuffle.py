import fastforward

from ops.pixel_unshuffle import PixelUnshuffle


class QuantizedPixelUnshuffle(fastforward.nn.QuantizedModule, PixelUnshuffle):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_pixel_unshuffle: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.pixel_unshuffle(
            input, 1, output_quantizer=self.quantizer_pixel_unshuffle
        )
        return r0

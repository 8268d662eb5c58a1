import fastforward

from basic.comments_and_docstring_kept import Documented


class QuantizedDocumented(fastforward.nn.QuantizedModule, Documented):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        """Adds and squashes.

        The docstring stays where it is.
        """
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        # first the sum
        s = fastforward.nn.functional.add(
            x, y, output_quantizer=self.quantizer_add
        )  # trailing comment
        # then the squash
        return fastforward.nn.functional.sigmoid(s, output_quantizer=self.quantizer_sigmoid)

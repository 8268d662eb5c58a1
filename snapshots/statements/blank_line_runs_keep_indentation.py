import fastforward

from statements.blank_line_runs_keep_indentation import Gaps


class QuantizedGaps(fastforward.nn.QuantizedModule, Gaps):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.proj(x)
        x = self.quantizer_x(x)

        y = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)

        # a comment after blank lines

        return fastforward.nn.functional.add(x, y, output_quantizer=self.quantizer_add)

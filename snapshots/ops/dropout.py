import fastforward

from ops.dropout import Dropout


class QuantizedDropout(fastforward.nn.QuantizedModule, Dropout):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_dropout: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.dropout(input, output_quantizer=self.quantizer_dropout)
        return r0

import fastforward

from statements.keyword_arguments_bound_to_slots import Kw


class QuantizedKw(fastforward.nn.QuantizedModule, Kw):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        y = self.quantizer_y(y)
        return fastforward.nn.functional.add(
            input=x, other=y, alpha=2, output_quantizer=self.quantizer_add
        )

import fastforward

from helpers.decorated_helper_kept import Gated, traced


# ---------------------------------------------------------------------------
# A helper behind a decorator keeps the decorator and its comments.
@traced
def quantized_gate(
    x,
    g,
    *,
    quantizer_sigmoid: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_g: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    g = quantizer_g(g)
    _tmp_1 = fastforward.nn.functional.sigmoid(g, output_quantizer=quantizer_sigmoid)
    return fastforward.nn.functional.mul(x, _tmp_1, output_quantizer=quantizer_mul)


class QuantizedGated(fastforward.nn.QuantizedModule, Gated):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_gate_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_g: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, g):
        return quantized_gate(
            x,
            g,
            quantizer_sigmoid=self.quantizer_gate_sigmoid,
            quantizer_mul=self.quantizer_gate_mul,
            quantizer_x=self.quantizer_gate_x,
            quantizer_g=self.quantizer_gate_g,
        )

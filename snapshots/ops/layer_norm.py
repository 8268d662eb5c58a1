import fastforward

from ops.layer_norm import LayerNorm


class QuantizedLayerNorm(fastforward.nn.QuantizedModule, LayerNorm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_layer_norm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.layer_norm(
            input, (2,), output_quantizer=self.quantizer_layer_norm
        )
        return r0

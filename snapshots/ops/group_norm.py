import fastforward

from ops.group_norm import GroupNorm


class QuantizedGroupNorm(fastforward.nn.QuantizedModule, GroupNorm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_group_norm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input):
        input = self.quantizer_input(input)
        r0 = fastforward.nn.functional.group_norm(
            input, 1, output_quantizer=self.quantizer_group_norm
        )
        return r0

import fastforward

from statements.short_circuit_right_operand_not_hoisted import ShortCircuit


class QuantizedShortCircuit(fastforward.nn.QuantizedModule, ShortCircuit):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_negative: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mask: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, mask):
        x = self.quantizer_x(x)
        mask = self.quantizer_mask(mask)
        ok = (
            mask is None
            or fastforward.nn.functional.sigmoid(
                mask, output_quantizer=self.quantizer_sigmoid
            ).sum()
            > 0
        )
        return (
            x
            if ok
            else fastforward.nn.functional.negative(x, output_quantizer=self.quantizer_negative)
        )

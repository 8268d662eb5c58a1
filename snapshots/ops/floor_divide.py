import fastforward

from ops.floor_divide import FloorDivide


class QuantizedFloorDivide(fastforward.nn.QuantizedModule, FloorDivide):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_floor_divide: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_other: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, other):
        input = self.quantizer_input(input)
        other = self.quantizer_other(other)
        r0 = fastforward.nn.functional.floor_divide(
            input, other, output_quantizer=self.quantizer_floor_divide
        )
        return r0

import fastforward

from ops.index_add import IndexAdd


class QuantizedIndexAdd(fastforward.nn.QuantizedModule, IndexAdd):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_index_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_source: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, index, source):
        input = self.quantizer_input(input)
        source = self.quantizer_source(source)
        r0 = fastforward.nn.functional.index_add(
            input, 1, index, source, output_quantizer=self.quantizer_index_add
        )
        return r0

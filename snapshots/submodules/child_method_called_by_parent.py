import fastforward

from submodules.child_method_called_by_parent import PositionEmbedding, PromptEncoder


class QuantizedPositionEmbedding(fastforward.nn.QuantizedModule, PositionEmbedding):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_coords_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, coords):
        return self.lin(coords)

    def with_coords(self, coords_input):
        coords = coords_input.clone()
        coords = fastforward.nn.functional.dequantized(coords)
        coords[:, 0] = fastforward.nn.functional.div(
            self.quantizer_coords_0(coords[:, 0]), 4, output_quantizer=self.quantizer_div
        )
        return self.forward(coords)


class QuantizedPromptEncoder(fastforward.nn.QuantizedModule, PromptEncoder):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_points: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, points):
        points = self.quantizer_points(points)
        _tmp_1 = fastforward.nn.functional.add(points, 0.5, output_quantizer=self.quantizer_add)
        return self.pe_layer.with_coords(_tmp_1)

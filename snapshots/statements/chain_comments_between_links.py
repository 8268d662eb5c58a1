import fastforward

from statements.chain_comments_between_links import ChainComments


class QuantizedChainComments(fastforward.nn.QuantizedModule, ChainComments):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mask: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, mask):
        x = self.quantizer_x(x)
        # a chain continued over lines inside parentheses, comments after its first links:
        # each link moved into a temporary takes its comment to the end of its line
        _tmp_1 = mask.unsqueeze(1)
        _tmp_2 = _tmp_1.unsqueeze(0)  # (n, 1, d)
        _tmp_3 = _tmp_2.expand(2, -1, -1, -1)  # (1, n, 1, d)
        mask = _tmp_3.reshape(-1, 1, 4)
        mask = self.quantizer_mask(mask)
        return fastforward.nn.functional.add(x, mask, output_quantizer=self.quantizer_add)

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
        # a chain continued over lines inside parentheses, a comment after each link
        _tmp_1 = mask.unsqueeze(1)
        _tmp_2 = (_tmp_1  # (n, 1, d)
            .unsqueeze(0))
        _tmp_3 = (_tmp_2  # (1, n, 1, d)
            .expand(2, -1, -1, -1))
        mask = (
            _tmp_3  # (2, n, 1, d)
            .reshape(-1, 1, 4)
        )
        mask = self.quantizer_mask(mask)
        return fastforward.nn.functional.add(x, mask, output_quantizer=self.quantizer_add)

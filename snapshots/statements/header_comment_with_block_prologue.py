import fastforward

from statements.header_comment_with_block_prologue import (
    HeaderAndOwnLineComments,
    HeaderComment,
)


class QuantizedHeaderComment(fastforward.nn.QuantizedModule, HeaderComment):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_floor_divide: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_shape_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_splits: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        if self.training:  # a comment on the header's line stays there
            self_splits = self.quantizer_self_splits(self.splits)
            size = fastforward.nn.functional.floor_divide(
                self.quantizer_x_shape_0(x.shape[0]),
                self_splits,
                output_quantizer=self.quantizer_floor_divide,
            )
            _tmp_1 = fastforward.nn.functional.mul(
                size, self_splits, output_quantizer=self.quantizer_mul_1
            )
            return fastforward.nn.functional.mul(x, _tmp_1, output_quantizer=self.quantizer_mul_2)
        else:
            return x


class QuantizedHeaderAndOwnLineComments(fastforward.nn.QuantizedModule, HeaderAndOwnLineComments):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_floor_divide: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_shape_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_splits: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        if self.training:  # the header's comment stays on its line
            self_splits = self.quantizer_self_splits(self.splits)
            # a comment on its own line leads the block: the prologue goes before it
            size = fastforward.nn.functional.floor_divide(
                self.quantizer_x_shape_0(x.shape[0]),
                self_splits,
                output_quantizer=self.quantizer_floor_divide,
            )
            _tmp_2 = fastforward.nn.functional.mul(
                size, self_splits, output_quantizer=self.quantizer_mul_1
            )
            return fastforward.nn.functional.mul(x, _tmp_2, output_quantizer=self.quantizer_mul_2)
        return x

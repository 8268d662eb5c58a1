import fastforward

from statements.comprehension_iterable_no_walrus import Blocks


class QuantizedBlocks(fastforward.nn.QuantizedModule, Blocks):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_n: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, blocks, n: int):
        x = self.quantizer_x(x)
        n = self.quantizer_n(n)
        order = tuple(
            i
            for b in blocks
            for i in range(
                fastforward.nn.functional.mul(
                    self.quantizer_b_1(b), n, output_quantizer=self.quantizer_mul_1
                ),
                fastforward.nn.functional.mul(
                    (
                        fastforward.nn.functional.add(
                            self.quantizer_b_1(b), 1, output_quantizer=self.quantizer_add_1
                        )
                    ),
                    n,
                    output_quantizer=self.quantizer_mul_2,
                ),
            )
        )
        pairs = [
            fastforward.nn.functional.add(
                fastforward.nn.functional.mul(
                    self.quantizer_y(y),
                    self.quantizer_b_2(b),
                    output_quantizer=self.quantizer_mul_3,
                ),
                self.quantizer_b_2(b),
                output_quantizer=self.quantizer_add_2,
            )
            for b in blocks
            if b > 0
            for y in (
                fastforward.nn.functional.mul(
                    self.quantizer_b_2(b), 2, output_quantizer=self.quantizer_mul_4
                ),
                fastforward.nn.functional.mul(
                    self.quantizer_b_2(b), 3, output_quantizer=self.quantizer_mul_5
                ),
            )
        ]
        _tmp_1 = fastforward.nn.functional.mul(x, len(order), output_quantizer=self.quantizer_mul_6)
        return _tmp_1, pairs

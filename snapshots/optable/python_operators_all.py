import fastforward

from optable.python_operators_all import AllOperators


class QuantizedAllOperators(fastforward.nn.QuantizedModule, AllOperators):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_floor_divide: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_remainder: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_matmul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_left_shift: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_right_shift: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_bitwise_and: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_or: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_xor: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_bitwise_not: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_negative: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_positive: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, a, b):
        a = self.quantizer_a(a)
        b = self.quantizer_b(b)
        _tmp_1 = fastforward.nn.functional.add(a, b, output_quantizer=self.quantizer_add)
        _tmp_2 = fastforward.nn.functional.sub(a, b, output_quantizer=self.quantizer_sub)
        _tmp_3 = fastforward.nn.functional.mul(a, b, output_quantizer=self.quantizer_mul)
        _tmp_4 = fastforward.nn.functional.div(a, b, output_quantizer=self.quantizer_div)
        _tmp_5 = fastforward.nn.functional.floor_divide(
            a, b, output_quantizer=self.quantizer_floor_divide
        )
        _tmp_6 = fastforward.nn.functional.remainder(
            a, b, output_quantizer=self.quantizer_remainder
        )
        _tmp_7 = fastforward.nn.functional.pow(a, b, output_quantizer=self.quantizer_pow)
        _tmp_8 = fastforward.nn.functional.matmul(a, b, output_quantizer=self.quantizer_matmul)
        _tmp_9 = fastforward.nn.functional.bitwise_left_shift(
            a, b, output_quantizer=self.quantizer_bitwise_left_shift
        )
        _tmp_10 = fastforward.nn.functional.bitwise_right_shift(
            a, b, output_quantizer=self.quantizer_bitwise_right_shift
        )
        _tmp_11 = fastforward.nn.functional.bitwise_and(
            a, b, output_quantizer=self.quantizer_bitwise_and
        )
        _tmp_12 = fastforward.nn.functional.bitwise_or(
            a, b, output_quantizer=self.quantizer_bitwise_or
        )
        _tmp_13 = fastforward.nn.functional.bitwise_xor(
            a, b, output_quantizer=self.quantizer_bitwise_xor
        )
        _tmp_14 = fastforward.nn.functional.bitwise_not(
            a, output_quantizer=self.quantizer_bitwise_not
        )
        _tmp_15 = fastforward.nn.functional.negative(a, output_quantizer=self.quantizer_negative)
        _tmp_16 = fastforward.nn.functional.positive(a, output_quantizer=self.quantizer_positive)
        r = [
            _tmp_1,
            _tmp_2,
            _tmp_3,
            _tmp_4,
            _tmp_5,
            _tmp_6,
            _tmp_7,
            _tmp_8,
            _tmp_9,
            _tmp_10,
            _tmp_11,
            _tmp_12,
            _tmp_13,
            _tmp_14,
            _tmp_15,
            _tmp_16,
        ]
        # comparisons, `not`, `and`/`or` are never rewritten
        c = a < b
        d = not a
        e = a and b
        return r, c, d, e

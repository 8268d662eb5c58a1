import fastforward

from types.literals_and_arithmetic_no_inference import Literals


class QuantizedLiterals(fastforward.nn.QuantizedModule, Literals):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_negative: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_floor_divide: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_pow: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_remainder: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_7: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_both_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_items_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_table_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_12: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = 3
        a = self.quantizer_a(a)
        _tmp_1 = fastforward.nn.functional.mul(a, 4, output_quantizer=self.quantizer_mul_1)
        b = fastforward.nn.functional.sub(_tmp_1, 1, output_quantizer=self.quantizer_sub)
        c = fastforward.nn.functional.div(b, 2, output_quantizer=self.quantizer_div)
        d = fastforward.nn.functional.negative(a, output_quantizer=self.quantizer_negative)
        _tmp_2 = int(c)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.floor_divide(
            _tmp_2, 2, output_quantizer=self.quantizer_floor_divide
        )
        _tmp_4 = float("1.5")
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        e = fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add_1)
        flag = a < b
        mask = not flag
        items = [a, b]
        table = {"a": a}
        both = (a, c)
        _tmp_5 = fastforward.nn.functional.pow(a, 2, output_quantizer=self.quantizer_pow)
        s = fastforward.nn.functional.remainder(
            _tmp_5, 5, output_quantizer=self.quantizer_remainder
        )
        _tmp_6 = fastforward.nn.functional.mul(x, e, output_quantizer=self.quantizer_mul_2)
        _tmp_7 = fastforward.nn.functional.add(_tmp_6, s, output_quantizer=self.quantizer_add_2)
        _tmp_8 = fastforward.nn.functional.add(
            _tmp_7, self.quantizer_items_0(items[0]), output_quantizer=self.quantizer_add_3
        )
        _tmp_9 = fastforward.nn.functional.add(
            _tmp_8, self.quantizer_table_a(table["a"]), output_quantizer=self.quantizer_add_4
        )
        _tmp_10 = fastforward.nn.functional.add(
            _tmp_9, self.quantizer_both_1(both[1]), output_quantizer=self.quantizer_add_5
        )
        _tmp_11 = fastforward.nn.functional.add(_tmp_10, d, output_quantizer=self.quantizer_add_6)
        _tmp_12 = int(mask)
        _tmp_12 = self.quantizer__tmp_12(_tmp_12)
        return fastforward.nn.functional.add(
            _tmp_11, _tmp_12, output_quantizer=self.quantizer_add_7
        )

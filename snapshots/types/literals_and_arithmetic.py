import fastforward

from types.literals_and_arithmetic import Literals


class QuantizedLiterals(fastforward.nn.QuantizedModule, Literals):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_both_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_items_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_table_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_d: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_e: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = 3
        b = a * 4 - 1
        c = b / 2
        d = -a
        d = self.quantizer_d(d)
        e = int(c) // 2 + float("1.5")
        e = self.quantizer_e(e)
        flag = a < b
        mask = not flag
        items = [a, b]
        table = {"a": a}
        both = (a, c)
        s = a**2 % 5
        s = self.quantizer_s(s)
        _tmp_1 = fastforward.nn.functional.mul(x, e, output_quantizer=self.quantizer_mul)
        _tmp_2 = fastforward.nn.functional.add(_tmp_1, s, output_quantizer=self.quantizer_add_1)
        _tmp_3 = fastforward.nn.functional.add(
            _tmp_2, self.quantizer_items_0(items[0]), output_quantizer=self.quantizer_add_2
        )
        _tmp_4 = fastforward.nn.functional.add(
            _tmp_3, self.quantizer_table_a(table["a"]), output_quantizer=self.quantizer_add_3
        )
        _tmp_5 = fastforward.nn.functional.add(
            _tmp_4, self.quantizer_both_1(both[1]), output_quantizer=self.quantizer_add_4
        )
        _tmp_6 = fastforward.nn.functional.add(_tmp_5, d, output_quantizer=self.quantizer_add_5)
        return fastforward.nn.functional.add(
            _tmp_6, int(mask), output_quantizer=self.quantizer_add_6
        )

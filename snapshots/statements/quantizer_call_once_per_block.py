import fastforward

from statements.quantizer_call_once_per_block import (
    AcrossStatements,
    AugmentedTarget,
    Commented,
    Headers,
    InBranch,
    InLoop,
    NamedLikeTemporary,
    OneLineSuite,
    OtherNamesBetween,
    SameStatement,
    SameTarget,
    TwoValues,
)


class QuantizedSameStatement(fastforward.nn.QuantizedModule, SameStatement):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_i: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, i: int):
        _tmp_2 = self.quantizer_x_i(x[i])
        _tmp_1 = fastforward.nn.functional.mul(_tmp_2, _tmp_2, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.relu(_tmp_1, output_quantizer=self.quantizer_relu)


class QuantizedAcrossStatements(fastforward.nn.QuantizedModule, AcrossStatements):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.quantizer_x_0(x[0])
        a = fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)
        b = fastforward.nn.functional.add(a, _tmp_1, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.sub(b, _tmp_1, output_quantizer=self.quantizer_sub)


class QuantizedTwoValues(fastforward.nn.QuantizedModule, TwoValues):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.quantizer_x_1(x[1])
        _tmp_4 = self.quantizer_x_0(x[0])
        _tmp_2 = fastforward.nn.functional.mul(
            _tmp_1, _tmp_4, output_quantizer=self.quantizer_mul_1
        )
        _tmp_3 = fastforward.nn.functional.mul(
            _tmp_4, _tmp_1, output_quantizer=self.quantizer_mul_2
        )
        y = fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)
        return y


class QuantizedInBranch(fastforward.nn.QuantizedModule, InBranch):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        x = self.quantizer_x(x)
        h = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        if flag:
            _tmp_1 = self.quantizer_x_0(x[0])
            _tmp_4 = fastforward.nn.functional.mul(
                _tmp_1, _tmp_1, output_quantizer=self.quantizer_mul_1
            )
            h = fastforward.nn.functional.add(h, _tmp_4, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.mul(
            h, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_mul_2
        )


class QuantizedHeaders(fastforward.nn.QuantizedModule, Headers):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        total = x[0]
        total = self.quantizer_total(total)
        _tmp_1 = self.quantizer_x_0(x[0])
        if (
            fastforward.nn.functional.mul(_tmp_1, _tmp_1, output_quantizer=self.quantizer_mul_1)
            > 1.0
        ):
            total = fastforward.nn.functional.mul(total, 2, output_quantizer=self.quantizer_mul_2)
        _tmp_2 = self.quantizer_x_1_3(x[1:3])
        for v in fastforward.nn.functional.mul(
            _tmp_2, _tmp_2, output_quantizer=self.quantizer_mul_3
        ):
            v = self.quantizer_v(v)
            total = fastforward.nn.functional.add(total, v, output_quantizer=self.quantizer_add)
        return total


class QuantizedCommented(fastforward.nn.QuantizedModule, Commented):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        h = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        _tmp_1 = self.quantizer_x_0(x[0])
        # the comment stays with its statement
        y = fastforward.nn.functional.mul(_tmp_1, _tmp_1, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.add(h, y, output_quantizer=self.quantizer_add)


class QuantizedInLoop(fastforward.nn.QuantizedModule, InLoop):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_i: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_acc: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        acc = x[0]
        acc = self.quantizer_acc(acc)
        for i in range(1, 4):
            _tmp_1 = self.quantizer_x_i(x[i])
            _tmp_5 = fastforward.nn.functional.mul(
                _tmp_1, _tmp_1, output_quantizer=self.quantizer_mul
            )
            acc = fastforward.nn.functional.add(acc, _tmp_5, output_quantizer=self.quantizer_add)
        return acc


class QuantizedSameTarget(fastforward.nn.QuantizedModule, SameTarget):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.quantizer_x_0(x[0])
        # x[0] is read twice before the store to x[0] happens
        x[0] = fastforward.nn.functional.mul(_tmp_1, _tmp_1, output_quantizer=self.quantizer_mul)
        return x


class QuantizedOtherNamesBetween(fastforward.nn.QuantizedModule, OtherNamesBetween):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = self.quantizer_x_0(x[0])
        a = fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)
        y = fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add_1)
        _tmp_6 = fastforward.nn.functional.add(a, _tmp_1, output_quantizer=self.quantizer_add_2)
        return fastforward.nn.functional.add(_tmp_6, y, output_quantizer=self.quantizer_add_3)


class QuantizedNamedLikeTemporary(fastforward.nn.QuantizedModule, NamedLikeTemporary):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = 3
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = self.quantizer_x_0(x[0])
        y = fastforward.nn.functional.mul(_tmp_2, _tmp_2, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.add(y, _tmp_1, output_quantizer=self.quantizer_add)


class QuantizedAugmentedTarget(fastforward.nn.QuantizedModule, AugmentedTarget):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.quantizer_x_0(x[0])
        x[0] = fastforward.nn.functional.add(_tmp_1, _tmp_1, output_quantizer=self.quantizer_add)
        return x


class QuantizedOneLineSuite(fastforward.nn.QuantizedModule, OneLineSuite):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        if flag:
            _tmp_1 = self.quantizer_x_0(x[0])
            y = fastforward.nn.functional.mul(_tmp_1, _tmp_1, output_quantizer=self.quantizer_mul)
        else:
            y = x
        return y

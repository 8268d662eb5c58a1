import fastforward
import torch

from statements.quantizer_call_repeated_when_unsafe import (
    Comprehension,
    Conditional,
    DifferentBlocks,
    Doubler,
    ElifTest,
    InLambda,
    InPlaceBetween,
    ListUpdatedBetween,
    ModuleBetween,
    Reassigned,
    ShortCircuit,
    StoredBetween,
    ViaHelper,
    WalrusBetween,
    WhileTest,
)


def quantized_helper(
    x, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x_0: fastforward.nn.Quantizer
):
    return fastforward.nn.functional.mul(
        quantizer_x_0(x[0]), quantizer_x_0(x[0]), output_quantizer=quantizer_mul
    )


class QuantizedConditional(fastforward.nn.QuantizedModule, Conditional):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        y = (
            fastforward.nn.functional.mul(
                self.quantizer_x_0(x[0]),
                self.quantizer_x_0(x[0]),
                output_quantizer=self.quantizer_mul,
            )
            if flag
            else x
        )
        return y


class QuantizedShortCircuit(fastforward.nn.QuantizedModule, ShortCircuit):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, first: bool):
        y = first and fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_mul
        )
        return y


class QuantizedElifTest(fastforward.nn.QuantizedModule, ElifTest):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, mode: int):
        x = self.quantizer_x(x)
        if mode == 0:
            return x
        elif (
            fastforward.nn.functional.mul(
                self.quantizer_x_0(x[0]),
                self.quantizer_x_0(x[0]),
                output_quantizer=self.quantizer_mul_1,
            )
            > 1.0
        ):
            return fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul_2)
        return x


class QuantizedWhileTest(fastforward.nn.QuantizedModule, WhileTest):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        while (
            fastforward.nn.functional.mul(
                self.quantizer_x_0(x[0]),
                self.quantizer_x_0(x[0]),
                output_quantizer=self.quantizer_mul_1,
            )
            > 1.0
        ):
            x = fastforward.nn.functional.mul(x, 0.5, output_quantizer=self.quantizer_mul_2)
        return x


class QuantizedComprehension(fastforward.nn.QuantizedModule, Comprehension):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, vs: list[torch.Tensor]):
        return [
            fastforward.nn.functional.add(
                fastforward.nn.functional.mul(
                    self.quantizer_x_0(x[0]),
                    self.quantizer_x_0(x[0]),
                    output_quantizer=self.quantizer_mul,
                ),
                self.quantizer_v(v),
                output_quantizer=self.quantizer_add,
            )
            for v in vs
        ]


class QuantizedInLambda(fastforward.nn.QuantizedModule, InLambda):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        f = lambda v: x[0] * x[0] + v  # noqa: E731
        _tmp_1 = f(x[1])
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.mul(
            _tmp_1, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_mul
        )


class QuantizedReassigned(fastforward.nn.QuantizedModule, Reassigned):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), 2, output_quantizer=self.quantizer_mul
        )
        x = fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add_1)
        return fastforward.nn.functional.add(
            a, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_add_2
        )


class QuantizedStoredBetween(fastforward.nn.QuantizedModule, StoredBetween):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        a = fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), 2, output_quantizer=self.quantizer_mul
        )
        x[0] = a
        return fastforward.nn.functional.add(
            a, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_add
        )


class QuantizedWalrusBetween(fastforward.nn.QuantizedModule, WalrusBetween):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        a = fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), 2, output_quantizer=self.quantizer_mul
        )
        _tmp_2 = fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add_1)
        b = (x := _tmp_2)
        b = self.quantizer_b(b)
        _tmp_3 = fastforward.nn.functional.add(
            a, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_add_2
        )
        return fastforward.nn.functional.add(_tmp_3, b, output_quantizer=self.quantizer_add_3)


class QuantizedListUpdatedBetween(fastforward.nn.QuantizedModule, ListUpdatedBetween):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_rows: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, rows: list[int]):
        a = fastforward.nn.functional.mul(
            self.quantizer_x_rows(x[rows]), 2, output_quantizer=self.quantizer_mul
        )
        rows += [1]
        return fastforward.nn.functional.add(
            a, self.quantizer_x_rows(x[rows]), output_quantizer=self.quantizer_add
        )


class QuantizedInPlaceBetween(fastforward.nn.QuantizedModule, InPlaceBetween):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        a = fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), 2, output_quantizer=self.quantizer_mul
        )
        x.mul_(2)
        return fastforward.nn.functional.add(
            a, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_add
        )


class QuantizedDoubler(fastforward.nn.QuantizedModule, Doubler):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        x.mul_(2)
        return x


class QuantizedModuleBetween(fastforward.nn.QuantizedModule, ModuleBetween):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        a = fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), 2, output_quantizer=self.quantizer_mul
        )
        h = self.doubler(x)
        h = self.quantizer_h(h)
        _tmp_4 = fastforward.nn.functional.add(a, h, output_quantizer=self.quantizer_add_1)
        return fastforward.nn.functional.add(
            _tmp_4, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_add_2
        )


class QuantizedDifferentBlocks(fastforward.nn.QuantizedModule, DifferentBlocks):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        a = fastforward.nn.functional.mul(
            self.quantizer_x_0(x[0]), 2, output_quantizer=self.quantizer_mul
        )
        if flag:
            a = fastforward.nn.functional.add(
                a, self.quantizer_x_0(x[0]), output_quantizer=self.quantizer_add
            )
        return a


class QuantizedViaHelper(fastforward.nn.QuantizedModule, ViaHelper):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_helper_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_helper_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        return quantized_helper(
            x, quantizer_mul=self.quantizer_helper_mul, quantizer_x_0=self.quantizer_helper_x_0
        )

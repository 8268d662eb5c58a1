import fastforward

from statements.hoisted_expression_quantized_where_read import (
    Conditional,
    Guarded,
    LoopIndex,
    LoopRebinds,
    Rebound,
    StillHoisted,
)


class QuantizedRebound(fastforward.nn.QuantizedModule, Rebound):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_matmul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_matmul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_T: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, w):
        x = self.quantizer_x(x)
        w = self.quantizer_w(w)
        y = fastforward.nn.functional.matmul(
            self.quantizer_x_T(x.T), w, output_quantizer=self.quantizer_matmul_1
        )
        x = fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add_1)
        z = fastforward.nn.functional.matmul(
            self.quantizer_x_T(x.T), w, output_quantizer=self.quantizer_matmul_2
        )
        return fastforward.nn.functional.add(y, z, output_quantizer=self.quantizer_add_2)


class QuantizedLoopIndex(fastforward.nn.QuantizedModule, LoopIndex):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_labels_i: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_point_embeddings_i_weight: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, labels):
        x = self.quantizer_x(x)
        for i in range(3):
            _tmp_1 = fastforward.nn.functional.mul(
                self.quantizer_self_point_embeddings_i_weight(self.point_embeddings[i].weight),
                (self.quantizer_labels_i(labels == i)),
                output_quantizer=self.quantizer_mul,
            )
            x = fastforward.nn.functional.add(x, _tmp_1, output_quantizer=self.quantizer_add)
        return x


class QuantizedLoopRebinds(fastforward.nn.QuantizedModule, LoopRebinds):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        for _ in range(2):
            _tmp_2 = self.lin(x)
            _tmp_2 = self.quantizer__tmp_2(_tmp_2)
            x = fastforward.nn.functional.mul(
                _tmp_2, (self.quantizer_x_0(x > 0)), output_quantizer=self.quantizer_mul
            )
        return x


class QuantizedGuarded(fastforward.nn.QuantizedModule, Guarded):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_p: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        if self.p is not None:
            self_p = self.quantizer_self_p(self.p)
            _tmp_3 = fastforward.nn.functional.sub(1.0, self_p, output_quantizer=self.quantizer_sub)
            x = fastforward.nn.functional.mul(x, _tmp_3, output_quantizer=self.quantizer_mul)
        return x


class QuantizedConditional(fastforward.nn.QuantizedModule, Conditional):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sub_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_p: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        y = (
            fastforward.nn.functional.mul(
                x,
                (
                    fastforward.nn.functional.sub(
                        1.0, self.quantizer_self_p(self.p), output_quantizer=self.quantizer_sub_1
                    )
                ),
                output_quantizer=self.quantizer_mul_1,
            )
            if self.p is not None
            else x
        )
        z = self.p is not None and fastforward.nn.functional.mul(
            x,
            (
                fastforward.nn.functional.sub(
                    2.0, self.quantizer_self_p(self.p), output_quantizer=self.quantizer_sub_2
                )
            ),
            output_quantizer=self.quantizer_mul_2,
        )
        return y, z


class QuantizedStillHoisted(fastforward.nn.QuantizedModule, StillHoisted):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_scale: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_scale_T: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, flag: bool):
        x = self.quantizer_x(x)
        self_scale = self.quantizer_self_scale(self.scale)
        for _ in range(2):
            x = fastforward.nn.functional.mul(x, self_scale, output_quantizer=self.quantizer_mul)
        self_scale_T = self.quantizer_self_scale_T(self.scale.T)
        if flag:
            y = fastforward.nn.functional.add(x, self_scale_T, output_quantizer=self.quantizer_add)
        else:
            y = fastforward.nn.functional.sub(x, self_scale_T, output_quantizer=self.quantizer_sub)
        return y

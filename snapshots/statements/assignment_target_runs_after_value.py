import fastforward

from statements.assignment_target_runs_after_value import (
    AugmentedTargetFirst,
    TargetAfterValue,
)


class QuantizedTargetAfterValue(fastforward.nn.QuantizedModule, TargetAfterValue):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_torch_relu_x_x_mul_x_0: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        # Python computes the value first, then the target's index: the index's
        # computation stays in the target, after the value's temporaries
        _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        _tmp_2 = fastforward.nn.functional.mul(x, x, output_quantizer=self.quantizer_mul_2)
        y[fastforward.nn.functional.mul(x, x, output_quantizer=self.quantizer_mul_1) > 0] = (
            fastforward.nn.functional.mul(
                self.quantizer_torch_relu_x_x_mul_x_0(_tmp_1[_tmp_2 > 0]),
                2,
                output_quantizer=self.quantizer_mul_3,
            )
        )
        return y


class QuantizedAugmentedTargetFirst(fastforward.nn.QuantizedModule, AugmentedTargetFirst):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y_x_argmax: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, y):
        x = self.quantizer_x(x)
        # `t[i] += v` reads t[i] before computing v: the index may move before the statement
        _tmp_3 = x.argmax()
        _tmp_4 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        _tmp_5 = _tmp_4.sum()
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        y[_tmp_3] = fastforward.nn.functional.add(
            self.quantizer_y_x_argmax(y[_tmp_3]), _tmp_5, output_quantizer=self.quantizer_add
        )
        return y

import fastforward

from statements.conditionally_evaluated_operands_not_hoisted import (
    AssertMessage,
    ChainedComparison,
)


class QuantizedChainedComparison(fastforward.nn.QuantizedModule, ChainedComparison):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_if_small: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        # torch.sigmoid(x).sum() runs only when x.sum() < 0: it stays in place
        _tmp_1 = x.sum()
        _tmp_2 = _tmp_1.item()
        if_small = (
            _tmp_2
            < 0
            < fastforward.nn.functional.mul(
                fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid).sum(),
                2,
                output_quantizer=self.quantizer_mul_1,
            )
        )
        if_small = self.quantizer_if_small(if_small)
        return fastforward.nn.functional.mul(x, if_small, output_quantizer=self.quantizer_mul_2)


class QuantizedAssertMessage(fastforward.nn.QuantizedModule, AssertMessage):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        # the message runs only when the test fails: it stays in place
        _tmp_3 = x.numel()
        assert _tmp_3 > 0, (
            "empty input: %s"
            % fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu).sum()
        )
        return fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add)

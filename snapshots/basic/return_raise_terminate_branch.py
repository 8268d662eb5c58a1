import fastforward

from basic.return_raise_terminate_branch import Guard


class QuantizedGuard(fastforward.nn.QuantizedModule, Guard):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        if x.dim() != 2:
            y = x.sum()
            raise ValueError("expected a matrix")
        y = x.t()
        y = self.quantizer_y(y)
        return fastforward.nn.functional.mul(y, y, output_quantizer=self.quantizer_mul)

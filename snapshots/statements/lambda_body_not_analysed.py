import fastforward
import torch

from statements.lambda_body_not_analysed import Lam


class QuantizedLam(fastforward.nn.QuantizedModule, Lam):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        act = lambda t: torch.relu(t) + 1
        _tmp_1 = act(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)

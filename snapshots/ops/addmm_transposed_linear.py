import fastforward
import torch

from ops.addmm_transposed_linear import Scores, TransposedLinear


class QuantizedTransposedLinear(fastforward.nn.QuantizedModule, TransposedLinear):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_addmm_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_addmm_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight_t_3_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = x.size()
        size_out = _tmp_1[:-1] + (self.nf,)
        _tmp_2 = x.view(-1, x.size(-1))
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        self_bias = self.quantizer_self_bias(self.bias)
        self_weight = self.quantizer_self_weight(self.weight)
        x = fastforward.nn.functional.addmm(
            self_bias, _tmp_2, self_weight, output_quantizer=self.quantizer_addmm_1
        )
        _tmp_3 = self.weight.t()
        y = fastforward.nn.functional.addmm(
            self_bias,
            x,
            self.quantizer_self_weight_t_3_3(_tmp_3[:3, :3]),
            beta=0.5,
            alpha=2,
            output_quantizer=self.quantizer_addmm_2,
        )
        _tmp_4 = x.view(size_out)
        return _tmp_4, y


class QuantizedScores(fastforward.nn.QuantizedModule, Scores):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_baddbmm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_q: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, q, k):
        q = self.quantizer_q(q)
        k = self.quantizer_k(k)
        scores = torch.zeros(q.size(0), q.size(1), k.size(-1), dtype=q.dtype)
        scores = fastforward.nn.functional.baddbmm(
            scores, q, k, beta=0, alpha=0.5, output_quantizer=self.quantizer_baddbmm
        )
        return scores

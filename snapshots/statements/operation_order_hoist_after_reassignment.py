import fastforward

from statements.operation_order_hoist_after_reassignment import Attention, _repeat


class QuantizedAttention(fastforward.nn.QuantizedModule, Attention):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_matmul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_matmul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k_T: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_q: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, q, k):
        q = self.quantizer_q(q)
        k = _repeat(k)
        k = self.quantizer_k(k)
        k_T = self.quantizer_k_T(k.T)
        score = fastforward.nn.functional.matmul(q, k_T, output_quantizer=self.quantizer_matmul_1)
        _tmp_1 = score.softmax(-1)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.matmul(_tmp_1, k, output_quantizer=self.quantizer_matmul_2)

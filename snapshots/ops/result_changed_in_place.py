import fastforward
import torch

from ops.result_changed_in_place import MoE


class QuantizedMoE(fastforward.nn.QuantizedModule, MoE):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_zeros_like: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mask: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, idx):
        x = self.quantizer_x(x)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            _tmp_1 = (idx == e).nonzero()
            rows = _tmp_1.squeeze(-1)
            _tmp_2 = expert(x[rows])
            out.index_add_(0, rows, _tmp_2)
        mask = torch.zeros_like(x)
        mask = mask.masked_fill_(x > 0, 1.0)
        mask = self.quantizer_mask(mask)
        _tmp_3 = fastforward.nn.functional.mul(out, mask, output_quantizer=self.quantizer_mul)
        _tmp_4 = fastforward.nn.functional.zeros_like(x, output_quantizer=self.quantizer_zeros_like)
        return fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add)

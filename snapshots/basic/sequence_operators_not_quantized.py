import fastforward
import torch

from basic.sequence_operators_not_quantized import Layer


class QuantizedLayer(fastforward.nn.QuantizedModule, Layer):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_pair_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_rest: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, hidden_states, extra: torch.Tensor):
        query, key, value, rest = [hidden_states] * 4
        rest = self.quantizer_rest(rest)
        pair = (extra,) + (key,)
        parts = [query]
        parts += [value]
        _tmp_1 = self.lin(parts[0])
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        _tmp_2 = fastforward.nn.functional.mul(
            self.quantizer_pair_0(pair[0]), rest, output_quantizer=self.quantizer_mul
        )
        return fastforward.nn.functional.add(_tmp_1, _tmp_2, output_quantizer=self.quantizer_add)
